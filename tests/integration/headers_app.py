"""An app that owns its response headers: cached objects, module-level lists, its own ids.

``starlette_app`` (instrumented by ``opentelemetry-instrument``) and ``raw_app`` (a raw
ASGI app wrapped by :func:`otel_distro.asgi.instrument`) serve the same routes.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from otel_distro.asgi import instrument

CACHED = PlainTextResponse("ok")
RAW_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"3")]
RAW_START = {"type": "http.response.start", "status": 200, "headers": RAW_HEADERS}


async def health(request: Request) -> Response:
    return CACHED


async def own_id(request: Request) -> Response:
    return PlainTextResponse("mine", headers={"X-Request-ID": "client-123"})


async def count(request: Request) -> Response:
    """How many header lines the cached objects hold now."""
    return PlainTextResponse(f"{len(CACHED.raw_headers)} {len(RAW_HEADERS)}")


starlette_app = Starlette(
    routes=[Route("/health", health), Route("/own-id", own_id), Route("/count", count)],
    middleware=[
        Middleware(
            CORSMiddleware,
            allow_origins=["https://app.example"],
            allow_methods=["GET"],
            expose_headers=["X-Custom"],
        )
    ],
)


async def _raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/count":
        body = f"{len(RAW_HEADERS)}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    await send(RAW_START)
    await send({"type": "http.response.body", "body": b"raw"})


raw_app = instrument(_raw)
