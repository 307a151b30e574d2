"""Exceptions on spans: one bounded ``exception`` event per exception and span."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from otel_distro.config import get_settings
from otel_distro.errors._repeat import server_repeat
from otel_distro.errors._span import guard_server_span, record_escaped, record_logged


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _events(span: ReadableSpan) -> list[dict[str, object]]:
    return [dict(e.attributes or {}) for e in span.events if e.name == "exception"]


def _deep(depth: int) -> None:
    if depth:
        _deep(depth - 1)
    raise ValueError("deep " + "x" * 300_000)


def test_same_exception_logged_twice_is_one_event(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """Two log calls with the same exception inside one span leave one event."""
    provider, exporter = spans
    exc = ValueError("twice")
    with provider.get_tracer("t").start_as_current_span("s"):
        record_logged(exc, None)
        record_logged(exc, None)
    (span,) = exporter.get_finished_spans()
    (event,) = _events(span)
    assert event["exception.type"] == "ValueError" and event["exception.message"] == "twice"


def test_escaping_exception_sets_error_and_one_bounded_event(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """An escaping exception through the guarded span: status ERROR, one event whose
    message and stack trace are cut, whoever else records it (FastAPI, use_span)."""
    provider, exporter = spans
    with pytest.raises(ValueError), provider.get_tracer("t").start_as_current_span("s") as span:
        guard_server_span(span)
        try:
            _deep(300)
        except ValueError as exc:
            record_escaped(exc)
            span.record_exception(exc)  # what the contrib middlewares do
            raise
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    (event,) = _events(finished)
    bound = get_settings().redact_max_scan + len("...[truncated]")
    assert len(str(event["exception.stacktrace"])) <= bound
    assert len(str(event["exception.message"])) <= bound


def test_server_repeat_of_an_app_logged_exception() -> None:
    """uvicorn's record of an exception the app logged at ERROR is a repeat; the app's own
    second log of it is not, and neither is the server's record of a fresh exception."""
    logged, fresh = ValueError("a"), ValueError("b")
    assert server_repeat(logged, "app", 40) is False
    assert server_repeat(logged, "uvicorn.error", 40) is True
    assert server_repeat(logged, "app", 40) is False
    assert server_repeat(fresh, "uvicorn.error", 40) is False
    assert server_repeat(ValueError("info"), "app", 20) is False


def test_guarded_record_exception_keeps_the_callers_attributes(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """An app's own ``span.record_exception(exc, attributes=...)`` on the server span keeps
    its attributes beside the bounded exception.* ones."""
    provider, exporter = spans
    with provider.get_tracer("t").start_as_current_span("s") as span:
        guard_server_span(span)
        span.record_exception(KeyError("k"), attributes={"order.id": "A-1"})
    (event,) = _events(exporter.get_finished_spans()[0])
    assert event["order.id"] == "A-1" and event["exception.type"] == "KeyError"
