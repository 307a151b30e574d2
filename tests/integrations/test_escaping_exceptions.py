"""An exception escaping a request is logged with that request's ids and context.

uvicorn logs "Exception in ASGI application" after the ASGI middleware has ended
its server span; these tests log the escaped exception the same way, outside any
span, and expect the request's trace id, span id and tenant on both outputs.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_distro import _exception_origin as _origin
from otel_distro import get_logger, set_tenant
from otel_distro.asgi import (
    instrument,
    mark_escaping_exceptions,
    server_request_hook,
    unmark_escaping_exceptions,
)
from tests.support.logs import Logs

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # the backport (pytest depends on it there); the same ``exceptions`` member
    from exceptiongroup import ExceptionGroup

pytestmark = pytest.mark.usefixtures("clean_logging_state")


MESSAGE = "Exception in ASGI application\n"


class Failed(RuntimeError):
    """What the app raises."""


@pytest.fixture
def tracing() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield provider, spans
    provider.shutdown()


@pytest.fixture
def marking() -> Iterator[None]:
    """The distro's wrapping of OpenTelemetryMiddleware, undone afterwards."""
    mark_escaping_exceptions()
    yield
    unmark_escaping_exceptions()


def _fastapi_app(raised: list[BaseException]) -> FastAPI:
    app = FastAPI()

    @app.get("/fail")
    async def fail() -> None:
        set_tenant(tenant_id="t-9", user_id="u-9")
        exc = Failed("failed on purpose")
        raised.append(exc)
        raise exc

    return app


async def _bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        set_tenant(tenant_id="t-bare")
        raise Failed("bare app failed")


def _escape(app: Any, path: str = "/fail") -> BaseException:
    """Serve one request and return the exception that escaped the app."""
    with pytest.raises(Failed) as caught:
        TestClient(app).get(path)
    return caught.value


def _server_span(spans: InMemorySpanExporter) -> ReadableSpan:
    (span,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    return span


def _ids(span: ReadableSpan) -> tuple[str, str]:
    context = span.get_span_context()
    assert context is not None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _record_ids(logs: Logs) -> tuple[str, str]:
    record = logs.records()[-1].log_record
    return format(record.trace_id or 0, "032x"), format(record.span_id or 0, "016x")


def test_fastapi_escaped_exception_logged_with_the_request_ids_and_tenant(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter], marking: None
) -> None:
    """The server's log of an escaped exception: request ids and tenant on record and line."""
    provider, spans = tracing
    raised: list[BaseException] = []
    app = _fastapi_app(raised)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, server_request_hook=server_request_hook
    )
    try:
        escaped = _escape(app)
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
    assert escaped is raised[0]  # the app's own exception still propagates
    logging.getLogger("uvicorn.error").error(MESSAGE, exc_info=escaped)

    trace_id, span_id = _ids(_server_span(spans))
    assert _record_ids(log_setup) == (trace_id, span_id)
    attributes = log_setup.attributes()
    assert attributes["tenant.id"] == "t-9" and attributes["user.id"] == "u-9"
    assert attributes["exception.type"].endswith("Failed")
    line = log_setup.json_lines()[-1]
    assert (line["event"], line["trace_id"], line["span_id"]) == (MESSAGE, trace_id, span_id)
    assert line["tenant.id"] == "t-9" and line["exception.message"] == "failed on purpose"


def test_bare_app_wrapped_with_instrument(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """instrument(app) marks escaping exceptions without the distro's class wrapping."""
    provider, spans = tracing
    escaped = _escape(instrument(_bare_app, tracer_provider=provider), "/x")
    logging.getLogger("uvicorn.error").error(MESSAGE, exc_info=escaped)
    assert _record_ids(log_setup) == _ids(_server_span(spans))
    assert log_setup.attributes()["tenant.id"] == "t-bare"
    assert log_setup.json_lines()[-1]["trace_id"] == _ids(_server_span(spans))[0]


def test_wrapping_is_applied_once(marking: None) -> None:
    """instrument() under the distro's class wrapping does not wrap the app twice."""
    middleware = instrument(_bare_app)
    inner = middleware.app
    assert type(inner).__name__ == "_MarkEscaping" and inner.app is _bare_app
    mark_escaping_exceptions()
    assert OpenTelemetryMiddleware(_bare_app).app.app is _bare_app


def test_unmarked_middleware_is_unchanged() -> None:
    """Without the distro's wrapping a contrib middleware keeps the app it was given."""
    assert OpenTelemetryMiddleware(_bare_app).app is _bare_app


def _escaped_inside_span(provider: TracerProvider) -> tuple[BaseException, tuple[str, str]]:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("request", kind=SpanKind.SERVER) as span:
        set_tenant(tenant_id="t-chain")
        exc = Failed("inner")
        _origin.remember(exc)
        context = span.get_span_context()
    return exc, (format(context.trace_id, "032x"), format(context.span_id, "016x"))


def _wrapped(inner: BaseException, how: str) -> BaseException:
    try:
        try:
            raise inner
        except Failed as exc:
            if how == "cause":
                raise ValueError("wrapped") from exc
            raise ValueError("while handling")
    except ValueError as outer:
        return outer


@pytest.mark.parametrize("how", ["cause", "context"])
def test_wrapped_exception_uses_the_remembered_request(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter], how: str
) -> None:
    """An exception wrapping a marked one (``from``, or raised while handling) is correlated."""
    inner, ids = _escaped_inside_span(tracing[0])
    logging.getLogger("outer").error("failed", exc_info=_wrapped(inner, how))
    assert _record_ids(log_setup) == ids
    assert log_setup.attributes()["tenant.id"] == "t-chain"


def test_exception_group_member_uses_the_remembered_request(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """A task group's ExceptionGroup holding a marked exception is correlated."""
    inner, ids = _escaped_inside_span(tracing[0])
    group = ExceptionGroup("tasks", [ValueError("other"), inner])
    logging.getLogger("outer").error("failed", exc_info=group)
    assert _record_ids(log_setup) == ids


def test_structlog_call_outside_the_span_is_correlated(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """An app's structlog call logging the escaped exception (an outer middleware) too."""
    inner, ids = _escaped_inside_span(tracing[0])
    get_logger("middleware").error("request_failed", exc_info=inner)
    assert _record_ids(log_setup) == ids
    line = log_setup.json_lines()[-1]
    assert (line["trace_id"], line["span_id"], line["tenant.id"]) == (*ids, "t-chain")


def test_app_configured_structlog_chain_is_correlated(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """The same through a structlog chain the application configured itself (the bridge):
    the record and the application's own line carry the request's ids and context."""
    stream = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(stream),
    )
    inner, ids = _escaped_inside_span(tracing[0])
    structlog.get_logger("middleware").error("request_failed", exc_info=inner)
    assert _record_ids(log_setup) == ids
    assert log_setup.attributes()["tenant.id"] == "t-chain"
    line = json.loads(stream.getvalue())
    assert (line["trace_id"], line["span_id"], line["tenant.id"]) == (*ids, "t-chain")


def test_current_span_wins_over_the_remembered_one(
    log_setup: Logs, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """Logged inside another span, the record belongs to that span."""
    inner, remembered = _escaped_inside_span(tracing[0])
    with tracing[0].get_tracer("test").start_as_current_span("later") as span:
        logging.getLogger("later").error("failed", exc_info=inner)
        current = span.get_span_context()
    ids = (format(current.trace_id, "032x"), format(current.span_id, "016x"))
    assert _record_ids(log_setup) == ids != remembered


def test_unmarked_exception_outside_a_span_has_no_ids(log_setup: Logs) -> None:
    """Nothing remembered, no span: no ids (and nothing invented)."""
    logging.getLogger("lib").error("failed", exc_info=Failed("plain"))
    assert "trace_id" not in log_setup.json_lines()[-1]
    assert not log_setup.records()[-1].log_record.trace_id


def test_remember_never_raises() -> None:
    """Outside a span nothing is stored; an exception refusing attributes is left alone."""

    class Frozen(Exception):
        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(name)

    plain = Failed("x")
    _origin.remember(plain)
    assert _origin.log_context(plain) is None
    _origin.remember(Frozen())  # no span: returns quietly
    provider = TracerProvider()
    with provider.get_tracer("t").start_as_current_span("s"):
        frozen = Frozen()
        _origin.remember(frozen)
    assert _origin.log_context(frozen) is not None  # stored past the class's __setattr__


def test_log_context_accepts_every_exc_info_form(
    tracing: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """An instance, a sys.exc_info() tuple and True (the exception being handled)."""
    inner, _ = _escaped_inside_span(tracing[0])
    assert _origin.log_context(inner) is not None
    assert _origin.log_context((type(inner), inner, None)) is not None
    try:
        raise inner
    except Failed:
        assert _origin.log_context(True) is not None
    assert _origin.log_context(False) is None and _origin.log_context("x") is None


def test_cyclic_chains_end() -> None:
    """A cycle of __context__ links is searched once and ends."""
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert _origin.log_context(first) is None
