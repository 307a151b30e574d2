"""An app that calls a third party through a long-lived factory client (real launches).

``THIRD_PARTY_URL`` is the third party's base URL. ``POST /call`` takes
``{"user", "password", "api_key", "token", "cookie", "secret", "tenant"}`` and makes
one call with each value where a careless client would leak it: userinfo, query,
Basic auth, ``X-API-Key``, ``Cookie``, JSON body; it answers with what the third party received.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from otel_distro import set_tenant
from otel_distro.http import ExternalAsyncClient, create_external_async_client

clients: dict[str, ExternalAsyncClient] = {}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    clients["billing"] = create_external_async_client(
        "billing", os.environ["THIRD_PARTY_URL"], timeout=10.0, retries=1, retry_backoff=0.01
    )
    try:
        yield
    finally:
        await clients.pop("billing").aclose()


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def call(request: Request) -> Response:
    values: dict[str, Any] = await request.json()
    set_tenant(values["tenant"], "user-1")
    client = clients["billing"]
    target = client.base_url.copy_with(username=values["user"], password=values["password"])
    response = await client.post(
        target.join("/echo/v1/charges"),
        params={"api_key": values["api_key"], "page": "1"},
        headers={"X-API-Key": values["token"], "Cookie": values["cookie"]},
        json={"amount": 1000, "password": values["secret"]},
    )
    flaky = await client.get(f"/flaky/{values['tenant']}", params={"fail": "1"})
    return JSONResponse({"received": response.json(), "flaky": flaky.status_code})


app = Starlette(
    routes=[Route("/health", health), Route("/call", call, methods=["POST"])], lifespan=lifespan
)
