"""The lean server middleware records what the contrib ASGI middleware records.

The same requests (methods, routes with path parameters, query strings, captured and
sanitised headers, a client request id, an inbound ``traceparent``, 404, 405, a 500 from an
exception, a streamed body, request and response sizes, an excluded URL, a websocket) go
through a FastAPI, a Starlette and a bare ASGI app, once under the contrib middleware (the
contrib instrumentors with the distro's hooks) and once under the lean one, in each
``OTEL_SEMCONV_STABILITY_OPT_IN`` mode; spans and metric points are compared field by field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from opentelemetry.instrumentation._semconv import _OpenTelemetrySemanticConventionStability
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.util.http import parse_excluded_urls
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from otel_distro._server_install import install_lean, uninstall_lean
from otel_distro.asgi import (
    chain_hooks,
    instrument,
    mark_escaping_exceptions,
    server_request_hook,
    unmark_escaping_exceptions,
)
from otel_distro.testing import Capture

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
ENV = {
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": "x-custom.*,content-type",
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": "content-type,x-resp",
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS": "x-custom-secret",
    "OTEL_PYTHON_EXCLUDED_URLS": "/health",
}
METRICS = (
    "http.server.duration",
    "http.server.request.duration",
    "http.server.active_requests",
    "http.server.response.size",
    "http.server.response.body.size",
    "http.server.request.size",
    "http.server.request.body.size",
)
TIMED = ("http.server.duration", "http.server.request.duration")


class Failed(RuntimeError):
    """What the failing route raises."""


def _requests(client: TestClient) -> None:
    client.get("/items/7?q=a%20b&n=1", headers={"user-agent": "curl/8.0", "x-custom-a": "1"})
    client.get("/items/8", headers={"x-custom-secret": "s3", "X-Request-ID": "client-id-1"})
    client.post("/items/9", content=b'{"a": 1}', headers={"content-type": "application/json"})
    client.put("/items/9")  # 405: the route matched partially
    client.get("/api/users/u-1", headers={"traceparent": PARENT})
    client.get("/missing")
    client.get("/fail")
    client.get("/stream")
    client.get("/health")
    client.request("PURGE", "/items/1")
    client.get("/sub/in/3")
    with client.websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"


async def _item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["item_id"]}, headers={"x-resp": "r"})


async def _user(request: Request) -> PlainTextResponse:
    return PlainTextResponse(",".join(map(str, request.path_params.values())) or "ok")


async def _fail(request: Request) -> None:
    raise Failed("failed on purpose")


async def _chunks() -> Iterator[bytes]:  # type: ignore[misc]
    for part in (b"a", b"b", b"c"):
        yield part


async def _stream(request: Request) -> StreamingResponse:
    return StreamingResponse(_chunks(), media_type="text/plain")


async def _echo(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(await ws.receive_text())
    await ws.close()


def _sub(contrib: bool) -> Starlette:
    app = Starlette(routes=[Route("/in/{n}", _user)])
    if contrib:  # as under opentelemetry-instrument: every Starlette app is instrumented
        StarletteInstrumentor.instrument_app(app, server_request_hook=_hook())
    return app


def _starlette(contrib: bool = False) -> Starlette:
    return Starlette(
        routes=[
            Route("/items/{item_id}", _item, methods=["GET", "POST", "PURGE"]),
            Route("/api/users/{uid}", _user),
            Route("/fail", _fail),
            Route("/stream", _stream),
            Route("/health", _user),
            Mount("/sub", app=_sub(contrib)),
            WebSocketRoute("/ws", _echo),
        ]
    )


def _fastapi(contrib: bool = False) -> FastAPI:
    app = FastAPI()
    for route in _starlette(contrib).routes:
        app.router.routes.append(route)
    return app


async def _bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message.get("text")})
        await send({"type": "websocket.close"})
        return
    if scope["path"] == "/fail":
        raise Failed("failed on purpose")
    body = b"ok"
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2"), (b"x-resp", b"r")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _hook() -> Any:
    return chain_hooks(server_request_hook, None)


def _contrib(kind: str) -> Any:
    if kind == "fastapi":
        app = _fastapi(contrib=True)
        FastAPIInstrumentor.instrument_app(
            app, server_request_hook=_hook(), exclude_spans=["receive", "send"]
        )
        return app
    if kind == "starlette":
        app = _starlette(contrib=True)
        StarletteInstrumentor.instrument_app(app, server_request_hook=_hook())
        return app
    return instrument(_bare)


def _lean(kind: str) -> Any:
    if kind == "fastapi":
        return _fastapi()
    if kind == "starlette":
        return _starlette()
    return instrument(_bare)


def _span(span: Any, ids: dict[int, int]) -> dict[str, Any]:
    events = [
        (event.name, {k: v for k, v in event.attributes.items() if k != "exception.stacktrace"})
        for event in span.events
    ]
    trace_id = format(span.context.trace_id, "032x")  # random per run: named, not compared

    def value(raw: Any) -> Any:
        if isinstance(raw, tuple):
            return tuple("<trace id>" if item == trace_id else item for item in raw)
        return raw

    return {
        "name": span.name,
        "kind": span.kind.name,
        # the parent as the index of the captured span, or the inbound one's id
        "parent": None
        if span.parent is None
        else ids.get(span.parent.span_id, span.parent.span_id),
        "attributes": {key: value(raw) for key, raw in span.attributes.items()},
        "events": events,
        "status": (span.status.status_code.name, span.status.description),
        "scope": (
            span.instrumentation_scope.name,
            span.instrumentation_scope.version,
            span.instrumentation_scope.schema_url,
        ),
    }


def _run(
    kind: str,
    semconv: str,
    server: str,
    make: Callable[[str], Any],
    extra: dict[str, str] | None = None,
) -> tuple[Any, Any]:
    _OpenTelemetrySemanticConventionStability._initialized = False
    env = {**ENV, "OTEL_SEMCONV_STABILITY_OPT_IN": semconv, "OTEL_DISTRO_SERVER_MIDDLEWARE": server}
    env.update(extra or {})
    with Capture(env) as capture:
        mark_escaping_exceptions()
        if server == "lean":
            install_lean(_hook())
        try:
            # one app per request: contrib keeps a response size across requests otherwise
            _requests(_PerRequest(kind, make))
        finally:
            uninstall_lean()
            unmark_escaping_exceptions()
        finished = capture._spans.get_finished_spans()
        ids = {span.context.span_id: index for index, span in enumerate(finished)}
        spans = [_span(span, ids) for span in finished]
        metrics = {}
        for name in METRICS:
            points = {}
            for point in capture.metric(name):
                key = json.dumps(point.attributes, sort_keys=True, default=str)
                points[key] = point.count if name in TIMED else (point.value, point.count)
            metrics[name] = points
    _OpenTelemetrySemanticConventionStability._initialized = False
    return spans, metrics


class _PerRequest:
    """A test client whose every request goes to a new app."""

    def __init__(self, kind: str, make: Callable[[str], Any]) -> None:
        self.kind, self.make = kind, make

    def _client(self) -> TestClient:
        return TestClient(self.make(self.kind), raise_server_exceptions=False)

    def __getattr__(self, method: str) -> Any:
        return getattr(self._client(), method)


def _differences(lean: dict[str, Any], contrib: dict[str, Any]) -> list[str]:
    """Each field (attribute by attribute) where the two spans differ, named."""
    found = []
    for field in contrib:
        if field == "attributes":
            for key in sorted(set(lean[field]) | set(contrib[field])):
                if lean[field].get(key) != contrib[field].get(key):
                    got, want = lean[field].get(key), contrib[field].get(key)
                    found.append(f"{contrib['name']}: {key}: lean {got!r}, contrib {want!r}")
        elif lean[field] != contrib[field]:
            found.append(
                f"{contrib['name']}: {field}: lean {lean[field]!r}, contrib {contrib[field]!r}"
            )
    return found


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # the contrib instrumentors read their excluded URLs once, when imported
    import opentelemetry.instrumentation.fastapi as fastapi_module
    import opentelemetry.instrumentation.starlette as starlette_module

    excluded = parse_excluded_urls(ENV["OTEL_PYTHON_EXCLUDED_URLS"])
    monkeypatch.setattr(fastapi_module, "_excluded_urls_from_env", excluded)
    monkeypatch.setattr(starlette_module, "_excluded_urls", excluded)
    yield
    uninstall_lean()
    unmark_escaping_exceptions()


@pytest.mark.parametrize("semconv", ["", "http", "http/dup"])
@pytest.mark.parametrize("kind", ["fastapi", "starlette", "bare"])
def test_lean_middleware_records_what_contrib_records(kind: str, semconv: str) -> None:
    contrib_spans, contrib_metrics = _run(kind, semconv, "contrib", _contrib)
    lean_spans, lean_metrics = _run(kind, semconv, "lean", _lean)
    assert len(contrib_spans) >= 11  # every request but the excluded one is traced
    assert not [s for s in contrib_spans if s["kind"] == "SERVER" and "/health" in s["name"]]
    for contrib, lean in zip(contrib_spans, lean_spans, strict=True):
        assert _differences(lean, contrib) == []
    assert lean_metrics == contrib_metrics
    assert any(contrib_metrics.values())


@pytest.mark.parametrize("kind", ["fastapi", "starlette", "bare"])
def test_unsampled_requests_have_the_same_metrics(kind: str) -> None:
    """With every trace dropped by the sampler, no server span, and the same metric points."""
    unsampled = {"OTEL_TRACES_SAMPLER": "always_off"}
    contrib_spans, contrib_metrics = _run(kind, "http/dup", "contrib", _contrib, unsampled)
    lean_spans, lean_metrics = _run(kind, "http/dup", "lean", _lean, unsampled)
    assert [s for s in lean_spans if s["kind"] == "SERVER"] == []
    assert [s for s in contrib_spans if s["kind"] == "SERVER"] == []
    assert lean_metrics == contrib_metrics
    assert contrib_metrics["http.server.request.duration"]
