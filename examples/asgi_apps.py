"""Two non-FastAPI apps for the ASGI coverage tests and docs.

* ``starlette_app``: a Starlette app, instrumented automatically by
  ``opentelemetry-instrument`` (span names from the route template);
* ``raw_app``: a bare ASGI callable wrapped with :func:`otel_distro.asgi.instrument`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import otel_distro.asgi
from otel_distro import set_tenant


async def _item(request: Request) -> JSONResponse:
    set_tenant(tenant_id=request.headers.get("x-demo-tenant", "starlette-tenant"))
    return JSONResponse({"id": request.path_params["item_id"]})


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


starlette_app = Starlette(routes=[Route("/items/{item_id}", _item), Route("/health", _health)])


async def _bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b'{"status": "ok"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


raw_app = otel_distro.asgi.instrument(_bare)
