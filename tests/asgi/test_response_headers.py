"""Response headers of ours go on a copy: the app's own header lists and values are kept."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.propagators import (
    get_global_response_propagator,
    set_global_response_propagator,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from otel_distro.asgi import instrument
from otel_distro.config import load_settings
from otel_distro.configurator import install_response_headers
from otel_distro.response_headers import RequestIdResponsePropagator

CACHED = PlainTextResponse("ok")
ORIGIN = {"Origin": "https://app.example"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    exporter.provider = provider  # type: ignore[attr-defined]
    yield exporter
    provider.shutdown()


@pytest.fixture(autouse=True)
def response_headers() -> Iterator[None]:
    """The distro's default response propagator, the previous one restored afterwards."""
    previous = get_global_response_propagator()  # type: ignore[no-untyped-call]
    install_response_headers(load_settings({}))
    yield
    set_global_response_propagator(previous)  # type: ignore[no-untyped-call]


def client(app: Any, spans: InMemorySpanExporter) -> TestClient:
    return TestClient(instrument(app, tracer_provider=spans.provider))  # type: ignore[attr-defined]


def server_span(spans: InMemorySpanExporter) -> ReadableSpan:
    (span,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    return span


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def starlette(*routes: Route) -> Starlette:
    return Starlette(routes=list(routes))


def test_cached_response_object_keeps_its_header_count(spans: InMemorySpanExporter) -> None:
    """A module-level response returned 1,000 times keeps its headers; each reply has its own id."""
    before = list(CACHED.raw_headers)
    app = starlette(Route("/health", lambda request: CACHED))
    ids = set()
    with client(app, spans) as http:
        for _ in range(1000):
            response = http.get("/health")
            assert len(response.headers.get_list("x-request-id")) == 1
            assert len(response.headers.get_list("traceresponse")) == 1
            ids.add(response.headers["x-request-id"])
    assert CACHED.raw_headers == before
    assert len(ids) == 1000


START_HEADERS = [(b"content-type", b"text/plain"), (b"x-app", b"1")]
START = {"type": "http.response.start", "status": 200, "headers": START_HEADERS}
BODY = {"type": "http.response.body", "body": b"raw"}


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI app sending module-level messages with a module-level header list."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send(START)
    await send(BODY)


def test_raw_app_module_level_header_list_is_untouched(spans: InMemorySpanExporter) -> None:
    """1,000 requests leave a raw app's module-level message and header list as they were."""
    snapshot = list(START_HEADERS)
    with client(raw_app, spans) as http:
        for _ in range(1000):
            response = http.get("/")
            assert response.headers.get_list("x-app") == ["1"]
            assert len(response.headers.get_list("x-request-id")) == 1
    assert snapshot == START_HEADERS
    assert START["headers"] is START_HEADERS and len(START) == 3


def test_app_request_id_wins_and_is_recorded(spans: InMemorySpanExporter) -> None:
    """The app's X-Request-ID is sent alone; its value is recorded on the server span."""

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", headers={"X-Request-ID": "client-123"})

    with client(starlette(Route("/", endpoint)), spans) as http:
        response = http.get("/")
    assert response.headers.get_list("x-request-id") == ["client-123"]
    span = server_span(spans)
    assert span.attributes is not None
    assert span.attributes["http.response.header.x-request-id"] == ("client-123",)
    assert response.headers["traceresponse"].split("-")[1] == trace_id(span)


def test_app_traceresponse_is_not_repeated(spans: InMemorySpanExporter) -> None:
    """A traceresponse the app set itself is the only one sent."""
    own = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", headers={"traceresponse": own})

    with client(starlette(Route("/", endpoint)), spans) as http:
        response = http.get("/")
    assert response.headers.get_list("traceresponse") == [own]


@pytest.mark.parametrize("path", ["/", "/missing"])
def test_no_expose_header_without_origin(spans: InMemorySpanExporter, path: str) -> None:
    """Without an Origin header no access-control-expose-headers is added (404s included)."""
    with client(starlette(Route("/", lambda request: CACHED)), spans) as http:
        response = http.get(path)
    assert "access-control-expose-headers" not in response.headers
    assert "traceresponse" in response.headers


def test_cors_request_exposes_our_headers(spans: InMemorySpanExporter) -> None:
    """A request with Origin gets one expose header naming the headers the distro added."""
    with client(starlette(Route("/", lambda request: CACHED)), spans) as http:
        response = http.get("/", headers=ORIGIN)
    (exposed,) = response.headers.get_list("access-control-expose-headers")
    assert [name.strip() for name in exposed.split(",")] == ["traceresponse", "x-request-id"]


def _cors_app(expose: list[str]) -> Any:
    app = starlette(Route("/", lambda request: PlainTextResponse("ok")))
    return CORSMiddleware(app, allow_origins=["*"], allow_methods=["GET"], expose_headers=expose)


def test_expose_header_merges_into_the_app_value(spans: InMemorySpanExporter) -> None:
    """The app's own expose header stays single, its names first, ours appended once."""
    with client(_cors_app(["X-Custom", "TraceResponse"]), spans) as http:
        response = http.get("/", headers=ORIGIN)
    (exposed,) = response.headers.get_list("access-control-expose-headers")
    names = [name.strip().lower() for name in exposed.split(",")]
    assert names == ["x-custom", "traceresponse", "x-request-id"]


def test_preflight_gets_no_expose_header(spans: InMemorySpanExporter) -> None:
    """A CORS preflight answer gets no expose header (it exposes nothing)."""
    preflight = {**ORIGIN, "Access-Control-Request-Method": "GET"}
    with client(_cors_app([]), spans) as http:
        response = http.options("/", headers=preflight)
    assert response.status_code == 200
    assert "access-control-expose-headers" not in response.headers


def _serve(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[Any]:
    """Run an ASGI app on one scope; the messages it sent the server."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


ACCEPT = {"type": "websocket.accept", "headers": [(b"x-ws", b"1")]}


async def websocket_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send(ACCEPT)
    await send({"type": "websocket.close", "code": 1000})


WEBSOCKET_SCOPE = {
    "type": "websocket",
    "path": "/ws",
    "raw_path": b"/ws",
    "query_string": b"",
    "headers": [(b"host", b"testserver"), (b"origin", b"https://app.example")],
    "scheme": "ws",
    "server": ("testserver", 80),
    "client": ("127.0.0.1", 5000),
}


def test_websocket_handshake_gets_nothing_by_default(spans: InMemorySpanExporter) -> None:
    """The websocket accept the app sent reaches the server as it is: same object, no header."""
    app = instrument(websocket_app, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    sent = _serve(app, dict(WEBSOCKET_SCOPE), [{"type": "websocket.connect"}])
    assert sent[0] is ACCEPT and ACCEPT["headers"] == [(b"x-ws", b"1")]


def test_websocket_handshake_gets_headers_when_asked(spans: InMemorySpanExporter) -> None:
    """OTEL_DISTRO_RESPONSE_HEADERS=all: the handshake gets ours on a copy of the accept."""
    install_response_headers(load_settings({"OTEL_DISTRO_RESPONSE_HEADERS": "all"}))
    app = instrument(websocket_app, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    sent = _serve(app, dict(WEBSOCKET_SCOPE), [{"type": "websocket.connect"}])
    names = [name for name, _ in sent[0]["headers"]]
    assert names[:2] == [b"x-ws", b"traceresponse"] and b"x-request-id" in names
    assert sent[0] is not ACCEPT and ACCEPT["headers"] == [(b"x-ws", b"1")]


HTTP_SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "headers": [(b"host", b"testserver"), (b"origin", b"https://app.example")],
    "scheme": "http",
    "server": ("testserver", 80),
    "client": ("127.0.0.1", 5000),
}


def test_headers_off_passes_the_app_messages_through(spans: InMemorySpanExporter) -> None:
    """OTEL_DISTRO_RESPONSE_HEADERS=off: no propagator, and the server gets the app's messages."""
    install_response_headers(load_settings({"OTEL_DISTRO_RESPONSE_HEADERS": "off"}))
    assert get_global_response_propagator() is None  # type: ignore[no-untyped-call]
    app = instrument(raw_app, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    sent = _serve(app, dict(HTTP_SCOPE), [{"type": "http.request", "body": b""}])
    assert sent == [START, BODY] and sent[0] is START
    assert START["headers"] == [(b"content-type", b"text/plain"), (b"x-app", b"1")]


def test_request_id_off_keeps_traceresponse(spans: InMemorySpanExporter) -> None:
    """OTEL_DISTRO_REQUEST_ID_HEADER=off drops the request id only; the expose header follows."""
    install_response_headers(load_settings({"OTEL_DISTRO_REQUEST_ID_HEADER": "off"}))
    with client(raw_app, spans) as http:
        response = http.get("/", headers=ORIGIN)
    assert "x-request-id" not in response.headers
    assert response.headers["access-control-expose-headers"] == "traceresponse"


def test_bad_mode_names_the_variable_and_falls_back() -> None:
    """An unknown OTEL_DISTRO_RESPONSE_HEADERS value is reported and `http` is used."""
    settings = load_settings({"OTEL_DISTRO_RESPONSE_HEADERS": "sometimes"})
    assert settings.response_headers == "http"
    (problem,) = settings.problems
    assert "OTEL_DISTRO_RESPONSE_HEADERS" in problem and "sometimes" in problem
    assert "http, all, off" in problem


def test_propagator_copies_a_message_it_was_not_handed_a_copy_of() -> None:
    """Called on the app's own message (no ASGI copy), the app's list is kept; ids stay fresh."""
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    headers = [(b"x-app", b"1")]
    message: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": headers}
    propagator = RequestIdResponsePropagator("X-Request-ID")
    seen = []
    for _ in range(3):
        with tracer.start_as_current_span("server") as span:
            propagator.inject(message)
        values = dict(message["headers"])
        assert values[b"x-request-id"].decode() == format(span.get_span_context().trace_id, "032x")
        seen.append(len(message["headers"]))
    assert headers == [(b"x-app", b"1")]
    assert seen == [3, 3, 3]


def test_a_failure_of_ours_never_breaks_the_response(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When adding our headers fails, the app's response is still sent, with its own headers."""
    from otel_distro import response_headers

    def broken(span_context: Any) -> str:
        raise RuntimeError("broken on purpose")

    monkeypatch.delenv("OTEL_DISTRO_RAISE_INTERNAL_ERRORS", raising=False)
    monkeypatch.setattr(response_headers, "_traceresponse", broken)
    app = instrument(raw_app, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    sent = _serve(app, dict(HTTP_SCOPE), [{"type": "http.request", "body": b""}])
    assert sent[0]["status"] == 200 and sent[1] == BODY
    assert (b"x-app", b"1") in sent[0]["headers"]
    assert START_HEADERS == [(b"content-type", b"text/plain"), (b"x-app", b"1")]


def test_nested_middlewares_send_our_headers_once(spans: InMemorySpanExporter) -> None:
    """Two instrumented layers (an instrumented app mounted in another): one of each header."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    inner = instrument(raw_app, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    outer = OpenTelemetryMiddleware(inner, tracer_provider=spans.provider)  # type: ignore[attr-defined]
    sent = _serve(outer, dict(HTTP_SCOPE), [{"type": "http.request", "body": b""}])
    names = [name for name, _ in sent[0]["headers"]]
    assert names.count(b"traceresponse") == 1 and names.count(b"x-request-id") == 1
    assert names[:2] == [b"content-type", b"x-app"]
    assert names.count(b"access-control-expose-headers") == 1
    assert START_HEADERS == [(b"content-type", b"text/plain"), (b"x-app", b"1")]
