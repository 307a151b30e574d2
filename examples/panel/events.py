"""Site events for the panel demo: RabbitMQ to Server-Sent Events.

``POST /sites`` calls :func:`site_created`.  With ``PANEL_AMQP_URL`` set, the
event is published to the ``panel.sites`` topic exchange and a consumer started
at startup forwards the queue to the SSE subscribers (request -> publish ->
consume -> forward is one trace); without it, the event goes to the subscribers
directly.  The app serves ``GET /events`` (bearer token required).  Events
carry only the event type and the opaque site id.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from otel_distro.messaging import SSEBroker

AMQP_ENV = "PANEL_AMQP_URL"
EXCHANGE = "panel.sites"

broker = SSEBroker("site-events", queue_size=100)
_amqp: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Connect to RabbitMQ (when configured) and forward its site events to subscribers."""
    url = os.environ.get(AMQP_ENV)
    connection = None
    if url:
        import aio_pika

        connection = await aio_pika.connect_robust(url)
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC)
        queue = await channel.declare_queue("", exclusive=True)
        await queue.bind(exchange, routing_key="site.#")
        await broker.consume_from(queue, event="site")
        _amqp["exchange"] = exchange
    try:
        yield
    finally:
        await broker.aclose()
        _amqp.clear()
        if connection is not None:
            await connection.close()


async def site_created(site_id: str) -> None:
    """Announce a new site to every SSE subscriber (through RabbitMQ when configured)."""
    payload = {"type": "site_created", "site_id": site_id}
    exchange = _amqp.get("exchange")
    if exchange is None:
        broker.publish(payload, event="site")
        return
    import aio_pika

    await exchange.publish(
        aio_pika.Message(json.dumps(payload).encode(), content_type="application/json"),
        routing_key="site.created",
    )
