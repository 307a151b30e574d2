"""An app traced by Starlette's own OpenTelemetryMiddleware gets no second server span."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import starlette.middleware.opentelemetry as native
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from otel_distro.asgi import mark_escaping_exceptions, traced_natively, unmark_escaping_exceptions


@pytest.fixture
def marking() -> Iterator[None]:
    mark_escaping_exceptions()
    yield
    unmark_escaping_exceptions()


def _app(*middleware: Middleware) -> Starlette:
    return Starlette(
        routes=[Route("/", lambda request: PlainTextResponse("ok"))], middleware=list(middleware)
    )


def _spans(app: Starlette, provider: TracerProvider, exporter: InMemorySpanExporter) -> list[str]:
    StarletteInstrumentor.instrument_app(app, tracer_provider=provider)
    try:
        assert TestClient(app).get("/").status_code == 200
    finally:
        StarletteInstrumentor.uninstrument_app(app)
    return [span.instrumentation_scope.name for span in exporter.get_finished_spans()]


@pytest.fixture
def tracing() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_natively_traced_app_has_only_its_own_span(
    marking: None, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """With Starlette's middleware in the app, only Starlette's server span is recorded."""
    provider, exporter = tracing
    app = _app(Middleware(native.OpenTelemetryMiddleware, tracer_provider=provider))
    assert _spans(app, provider, exporter) == ["starlette"]


def test_other_apps_are_still_traced_by_the_instrumentation(
    marking: None, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """An app without Starlette's middleware keeps the instrumentation's server span."""
    provider, exporter = tracing
    scopes = _spans(_app(), provider, exporter)
    assert scopes and all(name.startswith("opentelemetry.instrumentation") for name in scopes)


def test_native_middleware_found_behind_other_middleware() -> None:
    """The check follows the middleware chain, not only the next app."""

    class Outer:
        def __init__(self, app: object) -> None:
            self.app = app

    inner = native.OpenTelemetryMiddleware(_app())
    assert traced_natively(Outer(Outer(inner)))
    assert not traced_natively(Outer(Outer(_app())))
