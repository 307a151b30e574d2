"""``otel_capture.otlp_endpoint`` with a real launch: ``opentelemetry-instrument uvicorn``."""

from __future__ import annotations

import secrets
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
