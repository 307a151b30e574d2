"""Access log: one record per request from the finished SERVER span."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from opentelemetry._logs import SeverityNumber
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_distro.processors.access_log import AccessLogSpanProcessor, is_excluded
from tests.support.logs import Logs, make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/sites/{site_id}")
    def site(site_id: int) -> dict[str, int]:
        return {"id": site_id}

    @app.get("/missing")
    def missing() -> None:
        raise HTTPException(status_code=404)

    @app.get("/boom")
    def boom() -> None:
        raise HTTPException(status_code=503)

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


@pytest.fixture
def served(setup_logs: Callable[..., Logs]) -> Iterator[Callable[..., Any]]:
    """An instrumented FastAPI app whose tracer provider has the access-log processor."""
    apps: list[FastAPI] = []

    def serve(**env: str) -> tuple[Logs, TestClient, InMemorySpanExporter]:
        result = setup_logs(**env)
        spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(AccessLogSpanProcessor(make_settings(**env)))
        provider.add_span_processor(SimpleSpanProcessor(spans))
        app = _app()
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=provider, exclude_spans=["receive", "send"]
        )
        apps.append(app)
        return result, TestClient(app), spans

    yield serve
    for app in apps:
        FastAPIInstrumentor.uninstrument_app(app)


def _access(result: Logs) -> list[Any]:
    return [r for r in result.records() if r.log_record.body == "http_request"]


def test_one_record_per_request(served: Callable[..., Any]) -> None:
    """Each request produces exactly one access-log record."""
    result, client, _ = served()
    client.get("/sites/1")
    client.get("/sites/2")
    assert len(_access(result)) == 2


def test_record_has_method_route_status_duration_client(served: Callable[..., Any]) -> None:
    """The record carries method, route, path, status, duration_ms and client address."""
    result, client, _ = served()
    client.get("/sites/7")
    attrs = dict(_access(result)[0].log_record.attributes or {})
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.route"] == "/sites/{site_id}"
    assert attrs["url.path"] == "/sites/7"
    assert attrs["http.response.status_code"] == 200
    assert attrs["duration_ms"] >= 0
    assert attrs["client.address"] == "testclient"


def test_record_is_correlated_with_the_server_span(served: Callable[..., Any]) -> None:
    """The record has the trace and span id of the request's SERVER span."""
    result, client, spans = served()
    client.get("/sites/7")
    server = next(s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER)
    record = _access(result)[0].log_record
    assert (record.trace_id, record.span_id) == (server.context.trace_id, server.context.span_id)


def test_json_line_for_the_request(served: Callable[..., Any]) -> None:
    """The access line is rendered like every other log line, with the trace id."""
    result, client, spans = served()
    client.get("/sites/7")
    server = next(s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER)
    line = next(x for x in result.json_lines() if x["event"] == "http_request")
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["logger"] == "otel_distro.access"


@pytest.mark.parametrize(
    ("path", "severity"),
    [
        ("/sites/1", SeverityNumber.INFO),
        ("/missing", SeverityNumber.WARN),
        ("/boom", SeverityNumber.ERROR),
    ],
)
def test_level_follows_status_class(
    served: Callable[..., Any], path: str, severity: SeverityNumber
) -> None:
    """2xx/3xx log at INFO, 4xx at WARNING, 5xx at ERROR."""
    result, client, _ = served()
    client.get(path)
    assert _access(result)[0].log_record.severity_number is severity


def test_health_checks_are_excluded(served: Callable[..., Any]) -> None:
    """Paths in OTEL_DISTRO_ACCESS_LOG_EXCLUDED_PATHS get no access record."""
    result, client, _ = served()
    client.get("/health")
    assert _access(result) == []


def test_access_log_can_be_turned_off(served: Callable[..., Any]) -> None:
    """OTEL_DISTRO_ACCESS_LOG=false: no access records."""
    result, client, _ = served(OTEL_DISTRO_ACCESS_LOG="false")
    client.get("/sites/1")
    assert _access(result) == []


def test_tenant_from_span_attributes(served: Callable[..., Any]) -> None:
    """tenant.id/user.id set on the server span appear on the access record."""
    result, client, _ = served()
    app = client.app

    @app.get("/tenant")  # type: ignore[union-attr]
    def tenant() -> str:
        from opentelemetry import trace

        trace.get_current_span().set_attributes({"tenant.id": "t-9", "user.id": "u-1"})
        return "ok"

    client.get("/tenant")
    attrs = dict(_access(result)[0].log_record.attributes or {})
    assert (attrs["tenant.id"], attrs["user.id"]) == ("t-9", "u-1")


def test_old_semconv_attributes_are_read() -> None:
    """Old HTTP semantic-convention names (http.method, http.status_code...) work too."""
    from opentelemetry.sdk.trace import ReadableSpan

    from otel_distro.processors.access_log import _FIELDS, _first

    span = ReadableSpan(
        name="GET /x",
        kind=SpanKind.SERVER,
        attributes={
            "http.method": "POST",
            "http.status_code": 201,
            "net.peer.ip": "10.0.0.1",
            "http.target": "/x",
        },
    )
    attrs = span.attributes or {}
    found = {key: _first(attrs, names) for key, names in _FIELDS}
    assert (
        found["http.request.method"],
        found["http.response.status_code"],
        found["client.address"],
        found["url.path"],
    ) == ("POST", 201, "10.0.0.1", "/x")


def test_client_spans_are_ignored(setup_logs: Callable[..., Logs]) -> None:
    """Only SERVER spans produce access records."""
    result = setup_logs()
    provider = TracerProvider()
    provider.add_span_processor(AccessLogSpanProcessor(make_settings()))
    with provider.get_tracer("t").start_as_current_span("call", kind=SpanKind.CLIENT):
        pass
    assert _access(result) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/health", True), ("/healthy", False), ("/internal/x", True), ("/", False)],
)
def test_exclusion_patterns(path: str, expected: bool) -> None:
    """Exact paths, and prefixes ending in ``*``."""
    assert is_excluded(path, ("/health", "/internal/*")) is expected
