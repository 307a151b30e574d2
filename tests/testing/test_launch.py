"""``otel_capture.otlp_endpoint`` with a real launch: ``opentelemetry-instrument uvicorn``."""

from __future__ import annotations

import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support import launch_app

pytestmark = pytest.mark.integration


def test_a_real_launch_exports_into_the_same_queries(otel_capture: Any) -> None:
    """Spans and the access-log record of a real uvicorn process land in the capture,
    with a planted query-string token redacted everywhere."""
    token = secrets.token_urlsafe(18)
    receiver = SimpleNamespace(endpoint=otel_capture.otlp_endpoint)
    with launch_app(capture=receiver) as app:  # type: ignore[arg-type]
        response = app.client().get("/upstream/echo-headers", params={"token": token})
        assert response.status_code == 200
        (record,) = otel_capture.wait_for(lambda: otel_capture.logs(event="http_request"))
        trace = otel_capture.wait_for(
            lambda: (
                otel_capture.trace(record.trace_id).spans and otel_capture.trace(record.trace_id)
            )
        )
    server = trace.root()
    assert server is not None and server.kind == "SERVER"
    assert record.attributes["http.route"] == "/upstream/echo-headers"
    assert server.resource["service.name"] == "panel-api"
    otel_capture.assert_no_secret(token)


LAUNCHED_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from otel_distro.logging import get_logger

log = get_logger("launched")


async def order(request):
    log.info("order_viewed", item=request.path_params["item"])
    return JSONResponse({"item": request.path_params["item"]})


app = Starlette(routes=[Route("/orders/{item}", order)])
"""


def test_launch_runs_the_app_and_flushes_into_the_capture(
    otel_capture: Any, tmp_path: Path
) -> None:
    """``otel_capture.launch`` serves a user's app under ``opentelemetry-instrument
    uvicorn``; when the block ends the process is stopped and what it still held is
    already in the queries (no waiting); a planted token is redacted."""
    import httpx

    (tmp_path / "launched_app.py").write_text(LAUNCHED_APP)
    token = secrets.token_urlsafe(18)
    # Batches held for a minute: only the flush at the stop can deliver them in time.
    held = {"OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_BLRP_SCHEDULE_DELAY": "60000"}
    with otel_capture.launch(
        "launched_app:app", cwd=tmp_path, env={"OTEL_SERVICE_NAME": "launched", **held}
    ) as server:
        response = httpx.get(f"{server.url}/orders/5", params={"token": token}, timeout=10)
        assert response.status_code == 200
        process = server.process
    assert process.poll() is not None, "the app is stopped when the block ends"
    (record,) = otel_capture.logs(event="order_viewed")
    (span,) = otel_capture.spans(kind="server")
    assert record.trace_id == span.trace_id and record.attributes["item"] == "5"
    assert span.resource["service.name"] == "launched"
    assert span.attributes["http.route"] == "/orders/{item}"
    otel_capture.assert_no_secret(token)


def test_launch_reports_an_app_that_cannot_start(otel_capture: Any, tmp_path: Path) -> None:
    """An app that fails at import is reported with its output, not waited on."""
    (tmp_path / "broken_app.py").write_text("raise SystemExit('no database configured')\n")
    with (
        pytest.raises(RuntimeError, match=r"exited during start-up[\s\S]*no database configured"),
        otel_capture.launch("broken_app:app", cwd=tmp_path),
    ):
        pass
