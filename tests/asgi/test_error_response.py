"""The 500 of an exception escaping a request carries the trace headers, and stays the app's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.propagators import (
    get_global_response_propagator,
    set_global_response_propagator,
)
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from otel_distro.asgi import (
    instrument,
    mark_escaping_exceptions,
    server_request_hook,
    unmark_escaping_exceptions,
)
from otel_distro.config import load_settings
from otel_distro.configurator import install_response_headers


class Failed(RuntimeError):
    """Raised by every failing route."""


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    exporter.provider = provider  # type: ignore[attr-defined]
    previous = get_global_response_propagator()  # type: ignore[no-untyped-call]
    install_response_headers(load_settings({}))
    mark_escaping_exceptions()
    yield exporter
    unmark_escaping_exceptions()
    set_global_response_propagator(previous)  # type: ignore[no-untyped-call]
    provider.shutdown()


def _fail(request: Request) -> Response:
    raise Failed("failed on purpose")


def _server_span(spans: InMemorySpanExporter) -> Any:
    (span,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    return span


def _assert_trace_headers(response: Any, span: Any) -> None:
    trace_id = format(span.context.trace_id, "032x")
    span_id = format(span.context.span_id, "016x")
    assert response.headers.get_list("x-request-id") == [trace_id]
    assert response.headers.get_list("traceresponse") == [
        f"00-{trace_id}-{span_id}-{span.context.trace_flags:02x}"
    ]
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


def test_starlette_apps_own_500_handler_answers_with_the_trace_headers(
    spans: InMemorySpanExporter,
) -> None:
    calls: list[str] = []

    def handler(request: Request, exc: Exception) -> Response:
        calls.append(type(exc).__name__)
        return PlainTextResponse("the app's own 500", status_code=500)

    app = Starlette(routes=[Route("/fail", _fail)], exception_handlers={500: handler})
    StarletteInstrumentor.instrument_app(
        app,
        tracer_provider=spans.provider,  # type: ignore[attr-defined]
        server_request_hook=server_request_hook,  # as the distro installs it
    )
    with TestClient(app, raise_server_exceptions=False) as http:
        response = http.get("/fail", headers={"Origin": "https://app.example"})
    assert (response.status_code, response.text) == (500, "the app's own 500")
    assert calls == ["Failed"]  # the handler ran once: nothing else answered
    _assert_trace_headers(response, _server_span(spans))
    exposed = response.headers["access-control-expose-headers"]
    assert exposed == "traceresponse, x-request-id"


def test_bare_asgi_app_raising_before_responding_gets_the_servers_500_with_headers(
    spans: InMemorySpanExporter,
) -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise Failed("failed on purpose")

    app = instrument(bare, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    response = TestClient(app, raise_server_exceptions=False).get("/fail")  # no lifespan
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    _assert_trace_headers(response, _server_span(spans))
