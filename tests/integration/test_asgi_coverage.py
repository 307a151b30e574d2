"""Starlette and bare ASGI apps get the same treatment as FastAPI, for real."""

from __future__ import annotations

import pytest

from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration


def server_spans(capture: OtlpCapture, trace_id: str) -> list:  # type: ignore[type-arg]
    capture.wait_for(lambda: capture.spans(trace_id=trace_id, kind="SERVER"))
    return capture.spans(trace_id=trace_id)


def test_starlette_app_one_span_named_by_route(otlp_capture: OtlpCapture) -> None:
    """Starlette: one server span per request (no send/receive spans), route name, tenant."""
    with launch_app("examples.asgi_apps:starlette_app", capture=otlp_capture) as app:
        response = app.client().get("/items/42")
        spans = server_spans(otlp_capture, response.headers["x-request-id"])
    assert [s.name for s in spans] == ["GET /items/{item_id}"]
    assert spans[0].attributes["tenant.id"] == "starlette-tenant"


def test_bare_asgi_app_wrapped_with_instrument(otlp_capture: OtlpCapture) -> None:
    """otel_distro.asgi.instrument(app): server span, request-id header, no internal spans."""
    with launch_app("examples.asgi_apps:raw_app", capture=otlp_capture) as app:
        response = app.client().get("/anything", headers={"X-Request-ID": "client-1"})
        spans = server_spans(otlp_capture, response.headers["x-request-id"])
    assert len(spans) == 1 and spans[0].kind == "SERVER"
    assert spans[0].attributes["http.request.header.x-request-id"] == ["client-1"]
    assert response.headers["traceresponse"].split("-")[1] == response.headers["x-request-id"]


def test_excluded_urls_make_no_spans(otlp_capture: OtlpCapture) -> None:
    """OTEL_PYTHON_EXCLUDED_URLS is honoured: health checks are not traced."""
    with launch_app(capture=otlp_capture, env={"OTEL_PYTHON_EXCLUDED_URLS": "health"}) as app:
        assert app.client().get("/health").status_code == 200
        traced = app.client().get("/upstream/echo-headers")
        server_spans(otlp_capture, traced.headers["x-request-id"])
    assert not [s for s in otlp_capture.spans() if s.name == "GET /health"]


def test_our_variables_are_instrument_flags() -> None:
    """opentelemetry-instrument lists the distro's variables as command-line flags."""
    import subprocess

    from tests.support.launch import BIN_DIR

    out = subprocess.run(
        [str(BIN_DIR / "opentelemetry-instrument"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--distro_trusted_peers" in out
    assert "--distro_jwt_secret" in out


def test_internal_spans_can_be_turned_back_on(otlp_capture: OtlpCapture) -> None:
    """OTEL_DISTRO_ASGI_INTERNAL_SPANS=true restores the ASGI send/receive spans."""
    env = {"OTEL_DISTRO_ASGI_INTERNAL_SPANS": "true"}
    with launch_app(capture=otlp_capture, env=env) as app:
        trace_id = app.client().get("/upstream/echo-headers").headers["x-request-id"]
        otlp_capture.wait_for(
            lambda: any(s.name.endswith("http send") for s in otlp_capture.spans(trace_id=trace_id))
        )
