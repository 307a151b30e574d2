"""Two roles of one app for the signed-baggage launches (``test_signed_baggage_launch.py``).

``GET /call?tenant=...`` (service A) sets the tenant and calls ``SIGNED_DOWNSTREAM_URL``
``/whoami`` with httpx; ``GET /whoami`` (service B) logs a line and answers with the
tenant it sees and the trace-context/baggage headers it received.

Through RabbitMQ: ``GET /publish?tenant=...`` sets the tenant and publishes to the queue
``SIGNED_QUEUE`` at ``SIGNED_AMQP_URL``; an app started with ``SIGNED_CONSUME=1``
consumes that queue, logs each message, and lists what it saw at ``GET /consumed``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import httpx
from fastapi import FastAPI, Request

from otel_distro import current_tenant, get_logger, set_tenant

log = get_logger("signed")
consumed: list[dict[str, Any]] = []


async def _on_message(message: Any) -> None:
    async with message.process():
        tenant, user = current_tenant()
        log.info("message consumed")
        headers = message.headers or {}
        consumed.append(
            {
                "tenant": tenant,
                "user": user,
                "body": message.body.decode(),
                "baggage": str(headers.get("baggage", "")),
                "traceparent": str(headers.get("traceparent", "")),
            }
        )


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    if not os.environ.get("SIGNED_CONSUME"):
        yield
        return
    connection = await aio_pika.connect_robust(os.environ["SIGNED_AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(os.environ["SIGNED_QUEUE"])
        await queue.consume(_on_message)
        yield


app = FastAPI(title="signed", lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/call")
async def call(tenant: str, user: str = "u-1") -> Any:
    set_tenant(tenant_id=tenant, user_id=user)
    log.info("calling downstream")
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.get(f"{os.environ['SIGNED_DOWNSTREAM_URL']}/whoami")
    return response.json()


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, Any]:
    tenant, user = current_tenant()
    log.info("whoami served")
    return {
        "tenant": tenant,
        "user": user,
        "baggage": request.headers.get("baggage"),
        "traceparent": request.headers.get("traceparent"),
    }


@app.get("/publish")
async def publish(tenant: str, body: str = "site created") -> dict[str, bool]:
    set_tenant(tenant_id=tenant, user_id="u-1")
    connection = await aio_pika.connect_robust(os.environ["SIGNED_AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(os.environ["SIGNED_QUEUE"])
        await channel.default_exchange.publish(
            aio_pika.Message(body.encode()), routing_key=os.environ["SIGNED_QUEUE"]
        )
    return {"published": True}


@app.get("/consumed")
async def list_consumed() -> list[dict[str, Any]]:
    return consumed
