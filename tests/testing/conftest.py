"""The plugin is tested as a user's suite loads it: pytester runs a sample app's tests."""

from __future__ import annotations

import pytest

# Loaded once, as in a user's process: pytester's in-process runs keep modules imported
# before them, so the process-wide providers are not built a second time.
import otel_distro.testing._capture  # noqa: F401

SAMPLE_APP = '''
"""A small app: an admin route that records an auth violation, a route that logs."""

from opentelemetry import metrics
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from otel_distro.asgi import instrument
from otel_distro.logging import get_logger
from otel_distro.security import log_auth_violation

log = get_logger("sample")
orders = metrics.get_meter("sample").create_counter("sample.orders")


async def admin(request: Request) -> JSONResponse:
    log_auth_violation(
        request=request,
        violation="missing_permission",
        http_status=403,
        detail="Admin access required",
    )
    return JSONResponse({"detail": "forbidden"}, status_code=403)


async def order(request: Request) -> JSONResponse:
    item = request.path_params["item"]
    log.info("order_viewed", item=item, note=request.query_params.get("note", ""))
    orders.add(1, {"kind": "view"})
    return JSONResponse({"item": item})


api = Starlette(
    routes=[
        Route("/api/v1/admin/{item}", admin, methods=["POST"]),
        Route("/orders/{item}", order),
    ]
)
app = instrument(api)
'''


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the sample app as ``sample_app.py``."""
    pytester.makepyfile(sample_app=SAMPLE_APP)
    pytester.syspathinsert()
    return pytester
