"""Logs through real launches: correlated, exactly once, none lost, stdlib included."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

import pytest

from examples.panel.tokens import make_token
from tests.support import CapturedSpan, OtlpCapture, launch_app
from tests.support.ci import require

pytestmark = pytest.mark.integration


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines


def drive(app: Any) -> list[str]:
    """Requests that log through structlog and stdlib (httpx) loggers; their trace ids."""
    headers = {"Authorization": f"Bearer {make_token('u-1', 't-1')}"}
    client = app.client()
    created = client.post("/sites", json={"name": "a", "domain": "a.example"}, headers=headers)
    status = client.get(f"/sites/{created.json()['id']}/status", headers=headers)
    logged = client.post("/echo-log", json={"note": "hello"})
    return [r.headers["x-request-id"] for r in (created, status, logged)]


@pytest.mark.parametrize(
    "extra_env",
    [
        {},
        {"OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "true"},
        {"OTEL_PYTHON_LOG_CORRELATION": "true", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": ""},
    ],
    ids=["default", "sdk-logging-handler-requested", "contrib-logging-enabled"],
)
def test_each_log_call_is_one_correlated_record(
    otlp_capture: OtlpCapture, extra_env: dict[str, str]
) -> None:
    """Every JSON line of a request has its trace id, and is exported exactly once.

    The contrib logging and structlog instrumentations are installed in this
    environment; the SDK's own handler is requested in one variant.  None may
    add a second copy of any record.
    """
    installed = {ep.name for ep in entry_points(group="opentelemetry_instrumentor")}
    require({"logging", "structlog"} <= installed, "the contrib log instrumentations (make venv)")
    env = {"ENVIRONMENT": "production", "LOG_LEVEL": "INFO", **extra_env}
    with launch_app(capture=otlp_capture, env=env) as app:
        trace_ids = drive(app)
        app.stop()
        lines = json_lines(app.stdout_text())
    for trace_id in trace_ids:
        rendered = [line for line in lines if line.get("trace_id") == trace_id]
        exported = [log for log in otlp_capture.logs() if log.trace_id == trace_id]
        assert rendered, f"no rendered line for {trace_id}"
        assert sorted(line["event"] for line in rendered) == sorted(
            str(log.body) for log in exported
        ), (rendered, exported)
        server = otlp_capture.spans(trace_id=trace_id, kind="SERVER")
        assert server, trace_id
    events = [line["event"] for line in lines]
    assert "site_created" in events and "echo_log" in events
    # a stdlib logger (httpx) inside a request: rendered and exported with the trace id
    assert any(line.get("logger") == "httpx" and line.get("trace_id") for line in lines), lines
    # tenant context on records after authentication
    created = [log for log in otlp_capture.logs() if log.body == "site_created"]
    assert created[0].attributes.get("tenant.id") == "t-1"
    assert created[0].attributes.get("user.id") == "u-1"


def test_app_that_reconfigures_structlog(otlp_capture: OtlpCapture) -> None:
    """An app's own structlog.configure(processors=[..., JSONRenderer()]) keeps OTel
    emission and correlation, and its own rendered line is printed once (not swallowed)."""
    with launch_app("examples.structlog_app:app", capture=otlp_capture) as app:
        trace_id = app.client().get("/work").headers["x-request-id"]
        app.stop()
        lines = json_lines(app.stdout_text())
    exported = [log for log in otlp_capture.logs() if log.body == "work_done"]
    assert len(exported) == 1 and exported[0].trace_id == trace_id
    rendered = [line for line in lines if line.get("event") == "work_done"]
    assert len(rendered) == 1, lines
    assert rendered[0]["trace_id"] == trace_id and rendered[0]["items"] == 3


def test_log_level_applies_to_uvicorn_and_the_access_log(otlp_capture: OtlpCapture) -> None:
    """LOG_LEVEL=WARNING: uvicorn's INFO start-up lines and 2xx access records are dropped
    from both sinks; a 4xx access record (WARNING) is kept."""
    env = {"ENVIRONMENT": "production", "LOG_LEVEL": "WARNING"}
    with launch_app(capture=otlp_capture, env=env) as app:
        client = app.client()
        client.post("/echo-log", json={"note": "x"})
        missing = client.get("/sites/none")
        app.stop()
        lines = json_lines(app.stdout_text())
    levels = {line["level"] for line in lines}
    assert levels <= {"warning", "error", "critical"}, lines
    assert {log.severity_text for log in otlp_capture.logs()} <= {"WARN", "ERROR", "FATAL"}
    access = [log for log in otlp_capture.logs() if log.body == "http_request"]
    assert [log.attributes["http.response.status_code"] for log in access] == [missing.status_code]


def test_outbound_calls_are_logged_redacted_and_correlated(otlp_capture: OtlpCapture) -> None:
    """Each httpx call is one external_http_call record on the request's trace, URL redacted."""
    env = {"EXTERNAL_HTTP_ENABLE_BODY_LOGGING": "true"}
    headers = {"Authorization": f"Bearer {make_token('u-5', 't-5')}"}
    with launch_app(capture=otlp_capture, env=env) as app:
        created = app.client().post(
            "/sites", json={"name": "x", "domain": "x.example"}, headers=headers
        )
        status = app.client().get(f"/sites/{created.json()['id']}/status", headers=headers)
        trace_id = status.headers["x-request-id"]
        calls = otlp_capture.wait_for(
            lambda: [
                log
                for log in otlp_capture.logs()
                if log.body == "external_http_call" and log.trace_id == trace_id
            ],
            message="the external_http_call record",
        )
    assert len(calls) == 1
    attributes = calls[0].attributes
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert "/upstream/echo-headers" in attributes["url.full"]
    assert attributes["tenant.id"] == "t-5"


@pytest.mark.parametrize("target", ["app", "starlette_app", "raw_app"])
def test_exception_escaping_a_request_is_logged_on_its_trace(
    otlp_capture: OtlpCapture, target: str
) -> None:
    """uvicorn's "Exception in ASGI application", logged after the server span ended,
    carries that span's trace and span id, the exception and the request's tenant,
    in the exported record and in the stdout line.  The span is ERROR with one
    ``exception`` event."""
    env = {"ENVIRONMENT": "production", "LOG_LEVEL": "INFO"}
    with launch_app(f"tests.integration.error_app:{target}", capture=otlp_capture, env=env) as app:
        assert app.client().get("/fail").status_code == 500
        (span,) = otlp_capture.wait_for(
            lambda: [s for s in otlp_capture.spans(kind="SERVER") if _path(s) == "/fail"],
            message="the server span",
        )
        assert span.status_code == "ERROR"
        assert [e.name for e in span.events] == ["exception"]
        assert span.events[0].attributes["exception.type"].endswith("RequestFailed")
        app.stop()
        lines = json_lines(app.stdout_text())
    escaped = [
        log
        for log in otlp_capture.logs()
        if str(log.body).startswith("Exception in ASGI application")
    ]
    assert len(escaped) == 1, otlp_capture.logs()
    record = escaped[0]
    assert (record.trace_id, record.span_id) == (span.trace_id, span.span_id)
    assert record.attributes["exception.type"].endswith("RequestFailed")
    assert record.attributes["exception.message"] == "failed on purpose"
    assert "RequestFailed" in record.attributes["exception.stacktrace"]
    assert record.attributes["tenant.id"] == "t-fail"
    assert record.attributes["user.id"] == "u-fail"
    (line,) = [
        line for line in lines if line.get("logger") == "uvicorn.error" and "exception.type" in line
    ]
    assert (line["trace_id"], line["span_id"]) == (span.trace_id, span.span_id)
    assert line["tenant.id"] == "t-fail" and line["exception.message"] == "failed on purpose"


@pytest.mark.parametrize("target", ["app", "starlette_app", "raw_app"])
def test_500_of_an_escaping_exception_carries_the_trace_headers(
    otlp_capture: OtlpCapture, target: str
) -> None:
    """The client's 500 carries the request id and ``traceresponse`` of the server span,
    also when a bare ASGI app raised before starting a response (the distro then sends
    the server's 500 itself) and when Starlette's ServerErrorMiddleware answers outside
    the instrumentor's middleware: uvicorn still logs the exception exactly once."""
    env = {"ENVIRONMENT": "production", "LOG_LEVEL": "INFO"}
    with launch_app(f"tests.integration.error_app:{target}", capture=otlp_capture, env=env) as app:
        response = app.client().get("/fail")
        (span,) = otlp_capture.wait_for(
            lambda: [s for s in otlp_capture.spans(kind="SERVER") if _path(s) == "/fail"],
            message="the server span",
        )
        app.stop()
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["traceresponse"].startswith(f"00-{span.trace_id}-{span.span_id}-")
    assert response.headers["x-request-id"] == span.trace_id
    escaped = otlp_capture.wait_for(
        lambda: [
            log
            for log in otlp_capture.logs()
            if str(log.body).startswith("Exception in ASGI application")
        ],
        message="uvicorn's record of the exception",
    )
    assert [(log.trace_id, log.severity_text) for log in escaped] == [(span.trace_id, "ERROR")]


def _path(span: CapturedSpan) -> Any:
    return span.attributes.get("http.target", span.attributes.get("url.path"))


def test_stdlib_mapping_arguments_are_redacted(otlp_capture: OtlpCapture) -> None:
    """``info("login %(user)s %(password)s", {...})`` from the app: the password is
    redacted by its key before formatting, in the exported record and the stdout line."""
    from tests.integration.stdlib_args_app import SECRET

    env = {"ENVIRONMENT": "production", "LOG_LEVEL": "INFO"}
    with launch_app("tests.integration.stdlib_args_app:app", capture=otlp_capture, env=env) as app:
        trace_id = app.client().get("/login").headers["x-request-id"]
        (record,) = otlp_capture.wait_for(
            lambda: [
                log
                for log in otlp_capture.logs()
                if log.trace_id == trace_id and str(log.body).startswith("login")
            ],
            message="the login record",
        )
        app.stop()
        output = app.stdout_text()
    assert record.body == "login bob REDACTED"
    assert not any(SECRET in str(log.body) for log in otlp_capture.logs())
    assert not any(SECRET in str(log.attributes) for log in otlp_capture.logs())
    (line,) = [line for line in json_lines(output) if line.get("logger") == "app.auth"]
    assert line["event"] == "login bob REDACTED" and line["trace_id"] == trace_id
    assert SECRET not in output
