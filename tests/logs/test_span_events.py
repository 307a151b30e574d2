"""``OTEL_DISTRO_LOGS_AS_SPAN_EVENTS``: log records written inside a span become bounded,
redacted ``log`` events on that span (real SDK logger and tracer providers)."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro import logging as logs
from otel_distro.config import load_settings
from otel_distro.logging._span_events import (
    DROPPED_ATTRIBUTE,
    MAX_CHARS,
    MAX_EVENTS_PER_SPAN,
)

pytestmark = pytest.mark.usefixtures("clean_logging_state")

Run = Callable[..., ReadableSpan]


def plant() -> str:
    return "s" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


@pytest.fixture
def in_span() -> Iterator[Callable[..., Any]]:
    """``in_span(env, body)``: configure logging with *env*, run *body* inside one span of a
    real tracer provider, and return that finished span (after the log queue drained)."""
    providers: list[Any] = []

    def run(env: dict[str, str], body: Callable[[], None]) -> ReadableSpan:
        log_provider = LoggerProvider(shutdown_on_exit=False)
        log_provider.add_log_record_processor(SimpleLogRecordProcessor(InMemoryLogRecordExporter()))
        spans = InMemorySpanExporter()
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        providers.extend((log_provider, tracer_provider))
        logs.configure(load_settings(env), log_provider)
        with tracer_provider.get_tracer("t").start_as_current_span("request"):
            body()
        logs.flush()
        (span,) = spans.get_finished_spans()
        return span

    yield run
    for provider in providers:
        provider.shutdown()


def log_events(span: ReadableSpan) -> list[dict[str, Any]]:
    return [dict(e.attributes or {}) for e in span.events if e.name == "log"]


def test_development_adds_each_record_to_its_span(in_span: Run) -> None:
    """By default in development a record inside a span is one ``log`` event with its text."""
    span = in_span(
        {"ENVIRONMENT": "development"},
        lambda: logging.getLogger("app.orders").warning("order %s shipped", 42),
    )
    (event,) = log_events(span)
    assert event["log.message"] == "order 42 shipped"
    assert event["log.severity"] == "WARN"
    assert event["log.logger"] == "app.orders"


def test_production_adds_no_events_by_default(in_span: Run) -> None:
    """Outside development the span keeps no copy of its log records unless asked."""
    span = in_span({"ENVIRONMENT": "production"}, lambda: logging.getLogger("app").warning("x"))
    assert log_events(span) == []


def test_the_variable_turns_it_on_in_production(in_span: Run) -> None:
    """``OTEL_DISTRO_LOGS_AS_SPAN_EVENTS=true`` adds events whatever the environment."""
    span = in_span(
        {"ENVIRONMENT": "production", "OTEL_DISTRO_LOGS_AS_SPAN_EVENTS": "1"},
        lambda: logging.getLogger("app").warning("visible"),
    )
    assert [e["log.message"] for e in log_events(span)] == ["visible"]


def test_the_variable_turns_it_off_in_development(in_span: Run) -> None:
    """``false`` wins over the development default."""
    span = in_span(
        {"ENVIRONMENT": "development", "OTEL_DISTRO_LOGS_AS_SPAN_EVENTS": "off"},
        lambda: logging.getLogger("app").warning("x"),
    )
    assert log_events(span) == []


def test_structlog_fields_are_event_attributes(in_span: Run) -> None:
    """A structlog event's key-value fields are attributes of the span event."""
    span = in_span(
        {"ENVIRONMENT": "development"},
        lambda: structlog.get_logger("svc").info("site created", site_id=7, region="eu"),
    )
    (event,) = log_events(span)
    assert event["log.message"] == "site created"
    assert event["site_id"] == 7 and event["region"] == "eu"


def test_secrets_never_reach_the_span(in_span: Run) -> None:
    """A secret in the message or in a field is redacted on the event as on the record."""
    first, second = plant(), plant()
    span = in_span(
        {"ENVIRONMENT": "development"},
        lambda: structlog.get_logger("svc").info(f"login password={first}", api_key=second),
    )
    (event,) = log_events(span)
    dumped = json.dumps(event)
    assert first not in dumped and second not in dumped
    assert event["log.message"].startswith("login password=")


def test_events_per_span_are_capped_and_the_rest_counted(in_span: Run) -> None:
    """Past the cap no more events are added; the span says how many were left out."""
    extra = 5

    def body() -> None:
        for n in range(MAX_EVENTS_PER_SPAN + extra):
            logging.getLogger("app").warning("line %d", n)

    span = in_span({"ENVIRONMENT": "development"}, body)
    assert len(log_events(span)) == MAX_EVENTS_PER_SPAN
    assert span.attributes is not None and span.attributes[DROPPED_ATTRIBUTE] == extra


def test_a_long_message_is_cut(in_span: Run) -> None:
    """The event's text is bounded however long the record's message is."""
    span = in_span(
        {"ENVIRONMENT": "development"},
        lambda: logging.getLogger("app").warning("word " * 5000),
    )
    (event,) = log_events(span)
    assert len(event["log.message"]) <= MAX_CHARS + len("...[truncated]")


def test_a_record_outside_any_span_is_only_a_record(in_span: Run) -> None:
    """Without a recording span nothing is added (and nothing fails)."""
    log_provider = LoggerProvider(shutdown_on_exit=False)
    exporter = InMemoryLogRecordExporter()
    log_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logs.configure(load_settings({"ENVIRONMENT": "development"}), log_provider)
    logging.getLogger("app").warning("alone")
    log_provider.force_flush()
    assert [r.log_record.body for r in exporter.get_finished_logs()] == ["alone"]
    log_provider.shutdown()


def test_a_bad_value_is_reported_and_the_default_used() -> None:
    """An unknown value names the variable and falls back to ``auto``."""
    settings = load_settings(
        {"ENVIRONMENT": "development", "OTEL_DISTRO_LOGS_AS_SPAN_EVENTS": "sometimes"}
    )
    assert settings.logs_as_span_events == "auto" and settings.effective_logs_as_span_events
    (problem,) = settings.problems
    assert "OTEL_DISTRO_LOGS_AS_SPAN_EVENTS='sometimes'" in problem
