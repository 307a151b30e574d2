"""Unhandled and handled request errors through real ``opentelemetry-instrument uvicorn``
launches: the span, the log record and Sentry (its real transport, posting to a local
ingest server) all carry the request's trace, and no planted secret."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.errors.sentry_ingest import SentryIngest, sentry_ingest
from tests.support import CapturedSpan, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

APP = "tests.integration.sentry_error_app:app"
TRACE_URL = "https://traces.example/trace/{trace_id}?from=sentry"


@pytest.fixture
def ingest() -> Iterator[SentryIngest]:
    """A local server posing as the Sentry ingest endpoint of the DSN."""
    with sentry_ingest() as server:
        yield server


def _planted() -> dict[str, str]:
    return {name: secrets.token_hex(12) for name in ("query", "header", "bearer")}


def _env(ingest: SentryIngest, sample_rate: str = "0") -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "INFO",
        "ENABLE_SENTRY": "true",
        "SENTRY_DSN": ingest.dsn,
        "SENTRY_TRACES_SAMPLE_RATE": sample_rate,
        "OTEL_DISTRO_TRACE_URL_TEMPLATE": TRACE_URL,
    }


def _request(app: Any, path: str, planted: dict[str, str]) -> Any:
    return app.client().get(
        path,
        params={"password": planted["query"]},
        headers={"X-Api-Key": planted["header"], "Authorization": f"Bearer {planted['bearer']}"},
    )


def _server_span(capture: OtlpCapture, path: str) -> CapturedSpan:
    (span,) = capture.wait_for(
        lambda: [
            s
            for s in capture.spans(kind="SERVER")
            if s.attributes.get("url.path", s.attributes.get("http.target", "")).startswith(path)
        ],
        message=f"the server span of {path}",
    )
    return span


def _json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            out.append(parsed)
    return out


def _assert_absent(planted: dict[str, str], *texts: str) -> None:
    for name, secret in planted.items():
        for text in texts:
            at = text.find(secret)
            assert at < 0, f"planted {name} secret leaked: {text[max(0, at - 300) : at + 40]!r}"


def _events(ingest: SentryIngest) -> list[dict[str, Any]]:
    return [event for event in ingest.of_type("event") if event.get("exception")]


@pytest.mark.parametrize("path", ["/fail", "/escape"])
def test_unhandled_error_is_one_span_event_one_record_one_sentry_event(
    otlp_capture: OtlpCapture, ingest: SentryIngest, path: str
) -> None:
    """An exception escaping a request (logged by the app and re-raised, or not logged):
    server span ERROR with one redacted exception event, exactly one ERROR record with
    the span's ids, the client's 500 with its headers, one Sentry event on the trace."""
    planted = _planted()
    with launch_app(APP, capture=otlp_capture, env=_env(ingest)) as app:
        response = _request(app, path, planted)
        span = _server_span(otlp_capture, path)
        (event,) = ingest.wait_for(lambda: _events(ingest), message="the Sentry event")
        otlp_capture.wait_for(
            lambda: [r for r in otlp_capture.logs() if r.attributes.get("exception.type")],
            message="the error record",
        )
        app.stop()
        records = [r for r in otlp_capture.logs() if r.trace_id == span.trace_id]
        lines = _json_lines(app.stdout_text())
    assert response.status_code == 500
    assert response.headers["x-request-id"] == span.trace_id
    assert span.trace_id in response.headers["traceresponse"]

    assert span.status_code == "ERROR"
    exc_events = [e for e in span.events if e.name == "exception"]
    assert len(exc_events) == 1, exc_events
    (exc_event,) = exc_events
    assert exc_event.attributes["exception.type"].endswith("ChargeFailed")
    assert "password=" in exc_event.attributes["exception.message"]

    # the access log's record of the 500 is the request's, not the exception's
    errors = [r for r in records if r.severity_number >= 17 and "exception.type" in r.attributes]
    assert len(errors) == 1, [r.body for r in errors]
    assert (errors[0].trace_id, errors[0].span_id) == (span.trace_id, span.span_id)
    assert errors[0].attributes["exception.type"].endswith("ChargeFailed")
    error_lines = [line for line in lines if "exception.type" in line]
    assert len(error_lines) == 1, error_lines
    assert (error_lines[0]["trace_id"], error_lines[0]["span_id"]) == (span.trace_id, span.span_id)

    assert event["contexts"]["trace"]["trace_id"] == span.trace_id
    assert event["contexts"]["trace"]["span_id"] == span.span_id
    tags = event["tags"]
    assert (tags["trace_id"], tags["span_id"]) == (span.trace_id, span.span_id)
    assert (tags["tenant.id"], tags["user.id"]) == ("t-err", "u-err")
    assert tags["trace_url"] == TRACE_URL.format(trace_id=span.trace_id)

    exported = json.dumps([s.__dict__ for s in otlp_capture.spans()], default=str)
    logged = json.dumps([r.__dict__ for r in otlp_capture.logs()], default=str)
    _assert_absent(planted, ingest.text(), exported, logged, app_text := json.dumps(lines))
    assert app_text


def test_sentry_event_scrubs_locals_params_request_and_breadcrumbs(
    otlp_capture: OtlpCapture, ingest: SentryIngest
) -> None:
    """The Sentry event of a failing request holds the failing frame's locals, the log
    call's params, request data and breadcrumbs -- each with its secret replaced."""
    planted = _planted()
    with launch_app(APP, capture=otlp_capture, env=_env(ingest)) as app:
        _request(app, "/fail", planted)
        (event,) = ingest.wait_for(lambda: _events(ingest), message="the Sentry event")
        app.stop()
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    charge = [frame for frame in frames if frame.get("function") == "_charge"]
    assert charge and "api_key" in charge[-1]["vars"], charge
    _assert_absent(planted, json.dumps(event))


def test_with_traces_sampling_sentry_transaction_is_the_otel_trace(
    otlp_capture: OtlpCapture, ingest: SentryIngest
) -> None:
    """SENTRY_TRACES_SAMPLE_RATE=1: Sentry's transaction is built from the OTel spans
    (same trace id, the server span's id) -- no second, independent trace -- and the
    error event is on that trace too."""
    planted = _planted()
    with launch_app(APP, capture=otlp_capture, env=_env(ingest, sample_rate="1.0")) as app:
        _request(app, "/escape", planted)
        span = _server_span(otlp_capture, "/escape")
        transactions = ingest.wait_for(
            lambda: [
                t for t in ingest.of_type("transaction") if "/escape" in t.get("transaction", "")
            ],
            message="the Sentry transaction",
        )
        (event,) = ingest.wait_for(lambda: _events(ingest), message="the Sentry event")
        app.stop()
    trace_ids = {t["contexts"]["trace"]["trace_id"] for t in transactions}
    assert trace_ids == {span.trace_id}, transactions
    assert transactions[0]["contexts"]["trace"]["span_id"] == span.span_id
    assert event["contexts"]["trace"]["trace_id"] == span.trace_id
    _assert_absent(planted, ingest.text())


def test_handled_error_logged_twice_is_one_span_event(
    otlp_capture: OtlpCapture, ingest: SentryIngest
) -> None:
    """A handled exception logged twice (stdlib, then structlog) inside the request:
    both records carry exception.*, the span holds one exception event, and Sentry
    gets one event; the request still answers 200."""
    planted = _planted()
    with launch_app(APP, capture=otlp_capture, env=_env(ingest)) as app:
        response = _request(app, "/handled", planted)
        span = _server_span(otlp_capture, "/handled")
        ingest.wait_for(lambda: _events(ingest), message="the Sentry event")
        otlp_capture.wait_for(
            lambda: [r for r in otlp_capture.logs() if r.body == "charge_failed_again"],
            message="the second record",
        )
        app.stop()
    assert response.status_code == 200
    records = [
        r
        for r in otlp_capture.logs()
        if r.trace_id == span.trace_id and "exception.type" in r.attributes
    ]
    assert len(records) == 2
    assert all(r.span_id == span.span_id for r in records)
    assert all(r.attributes["exception.type"].endswith("ChargeFailed") for r in records)
    exc_events = [e for e in span.events if e.name == "exception"]
    assert len(exc_events) == 1, exc_events
    assert span.status_code != "ERROR"
    assert len(_events(ingest)) == 1
    _assert_absent(planted, ingest.text())


@pytest.mark.parametrize(
    ("dsn", "said"),
    [("", "SENTRY_DSN is empty"), ("http://@", "SENTRY_DSN is not a valid Sentry DSN")],
    ids=["empty", "malformed"],
)
def test_unusable_dsn_is_one_startup_line_and_the_app_runs(
    otlp_capture: OtlpCapture, dsn: str, said: str
) -> None:
    """ENABLE_SENTRY with an empty or malformed DSN: one start-up line naming SENTRY_DSN
    (never its value), and requests are served and traced as without Sentry."""
    env = {"ENVIRONMENT": "production", "ENABLE_SENTRY": "true", "SENTRY_DSN": dsn}
    with launch_app(APP, capture=otlp_capture, env=env) as app:
        response = app.client().get("/escape")
        span = _server_span(otlp_capture, "/escape")
        app.stop()
        stderr = app.stderr_text()
    assert response.status_code == 500 and span.status_code == "ERROR"
    mentions = [line for line in stderr.splitlines() if "SENTRY_DSN" in line]
    assert len(mentions) == 1 and said in mentions[0], stderr
    assert not dsn or dsn not in mentions[0]


@pytest.mark.parametrize("target", ["starlette_app", "raw_app"])
def test_other_asgi_apps_get_one_exception_event(otlp_capture: OtlpCapture, target: str) -> None:
    """Starlette (instrumented by opentelemetry-instrument) and a bare ASGI app wrapped by
    ``instrument()``: the escaping exception is one event on an ERROR server span.

    (Their 500 is written outside the traced middleware -- by Starlette's outermost
    ServerErrorMiddleware, by uvicorn for the bare app -- so it carries no response
    headers of the distro; FastAPI's does, see the test above.)"""
    env = {"ENVIRONMENT": "production", "LOG_LEVEL": "INFO"}
    with launch_app(f"tests.integration.error_app:{target}", capture=otlp_capture, env=env) as app:
        response = app.client().get("/fail")
        span = _server_span(otlp_capture, "/fail")
        app.stop()
    assert response.status_code == 500
    assert span.status_code == "ERROR"
    (event,) = [e for e in span.events if e.name == "exception"]
    assert event.attributes["exception.type"].endswith("RequestFailed")


def test_sentry_reports_with_opentelemetry_export_off(ingest: SentryIngest) -> None:
    """ENABLE_OPENTELEMETRY=false still starts Sentry: the failing request is one
    redacted Sentry event."""
    planted = _planted()
    env = {**_env(ingest), "ENABLE_OPENTELEMETRY": "false"}
    with launch_app(APP, env=env) as app:
        assert _request(app, "/escape", planted).status_code == 500
        ingest.wait_for(lambda: _events(ingest), message="the Sentry event")
        app.stop()
    assert len(_events(ingest)) == 1
    _assert_absent(planted, ingest.text())
