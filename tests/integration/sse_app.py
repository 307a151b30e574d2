"""An app fanning RabbitMQ messages and in-process publishes out to SSE subscribers.

Environment: ``AMQP_URL`` (the broker), ``SSE_QUEUE_SIZE`` (per-subscriber queue).
Routes: ``GET /events`` (one subscriber), ``POST /publish`` (in-process burst),
``POST /amqp`` (publish one message to RabbitMQ), ``GET /stats``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from fastapi import FastAPI, Request

from otel_distro import set_tenant
from otel_distro.messaging import SSEBroker

EXCHANGE = "site-events"

broker = SSEBroker("site-events", queue_size=int(os.environ.get("SSE_QUEUE_SIZE", "64")))
state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    connection = await aio_pika.connect_robust(os.environ["AMQP_URL"])
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC)
    queue = await channel.declare_queue("", exclusive=True)
    await queue.bind(exchange, routing_key="#")
    await broker.consume_from(queue)
    state["exchange"] = exchange
    try:
        yield
    finally:
        await broker.aclose()
        await connection.close()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/events")
async def events(request: Request) -> Any:
    return broker.response(request)


@app.get("/stats")
async def stats() -> dict[str, int]:
    return {"subscribers": broker.subscriber_count}


@app.post("/publish")
async def publish(count: int, size: int = 100, pause: float = 0.001) -> dict[str, Any]:
    """Publish *count* messages of *size* characters; how many subscribers got each."""
    results = []
    longest = 0.0
    for n in range(count):
        started = time.perf_counter()
        results.append(broker.publish({"n": n, "pad": "x" * size}, event="burst", id=n))
        longest = max(longest, time.perf_counter() - started)
        await asyncio.sleep(pause)
    return {"results": results, "longest_publish_seconds": longest}


@app.post("/amqp")
async def amqp(routing_key: str, header: str = "", message_id: str = "m-1") -> dict[str, str]:
    """Publish one message to the exchange (as the site-created handler of an app would)."""
    set_tenant(tenant_id="t-1", user_id="u-1")
    message = aio_pika.Message(
        b'{"type":"site_created","site_id":42}',
        content_type="application/json",
        message_id=message_id,
        correlation_id="conv-1",
        type="site",
        headers={"x-api-key": header} if header else {},
    )
    await state["exchange"].publish(message, routing_key=routing_key)
    return {"status": "published"}
