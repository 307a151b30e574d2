"""Apps whose ``/fail`` route sets a tenant and raises: the exception escapes to uvicorn.

``/health`` answers 200 (the launcher waits for it).

Launched by ``test_logging_launch.py``: ``app`` (FastAPI), ``starlette_app`` (Starlette,
both instrumented by ``opentelemetry-instrument``) and ``raw_app`` (a bare ASGI app
wrapped with :func:`otel_distro.asgi.instrument`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import otel_distro.asgi
from otel_distro import set_tenant

TENANT = "t-fail"


class RequestFailed(RuntimeError):
    """Raised by every ``/fail`` route."""


def _fail() -> None:
    set_tenant(tenant_id=TENANT, user_id="u-fail")
    raise RequestFailed("failed on purpose")


app = FastAPI(title="error-app")


@app.get("/fail")
async def fail() -> None:
    _fail()


@app.get("/health")
async def health() -> str:
    return "ok"


async def _starlette_fail(request: Request) -> None:
    _fail()


async def _starlette_health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


starlette_app = Starlette(
    routes=[Route("/fail", _starlette_fail), Route("/health", _starlette_health)]
)


async def _bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] != "/health":
        _fail()
    await PlainTextResponse("ok")(scope, receive, send)


raw_app = otel_distro.asgi.instrument(_bare)
