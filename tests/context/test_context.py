"""Trace as correlation id; tenant context through set_tenant and the request state."""

from __future__ import annotations

import contextvars

from opentelemetry import baggage
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro import correlation_id, current_tenant, set_tenant
from otel_distro.context import begin_request, sanitize_identifier
from otel_distro.processors.baggage import BaggageAttributesSpanProcessor


def make_tracer() -> tuple[object, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BaggageAttributesSpanProcessor(("tenant.id", "user.id")))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def test_correlation_id_is_the_trace_id() -> None:
    tracer, _ = make_tracer()
    assert correlation_id() is None
    with tracer.start_as_current_span("x") as span:  # type: ignore[attr-defined]
        assert correlation_id() == format(span.get_span_context().trace_id, "032x")


def test_set_tenant_reaches_server_span_and_later_spans() -> None:
    """After set_tenant, the server span and every later span carry tenant and user."""
    tracer, exporter = make_tracer()

    def request() -> None:
        with tracer.start_as_current_span("server") as server:  # type: ignore[attr-defined]
            begin_request(server)
            with tracer.start_as_current_span("before-auth"):  # type: ignore[attr-defined]
                pass
            # a sync dependency in a threadpool: its context copy never flows back
            contextvars.copy_context().run(set_tenant, tenant_id="acme", user_id=7)
            assert current_tenant() == ("acme", "7")
            with tracer.start_as_current_span("db"):  # type: ignore[attr-defined]
                pass

    contextvars.copy_context().run(request)
    spans = {span.name: dict(span.attributes or {}) for span in exporter.get_finished_spans()}
    assert spans["server"]["tenant.id"] == "acme"
    assert spans["server"]["user.id"] == "7"
    assert spans["db"]["tenant.id"] == "acme"
    assert "tenant.id" not in spans["before-auth"]


def test_set_tenant_as_context_manager_restores() -> None:
    """Outside requests, set_tenant works as a context manager and is undone on exit."""
    with set_tenant(tenant_id="t1"):
        assert baggage.get_baggage("tenant.id") == "t1"
        assert current_tenant() == ("t1", None)
    assert baggage.get_baggage("tenant.id") is None


def test_context_manager_restores_request_state() -> None:
    def request() -> None:
        begin_request(None)
        set_tenant(tenant_id="outer")
        with set_tenant(tenant_id="inner"):
            assert current_tenant()[0] == "inner"
        assert current_tenant()[0] == "outer"

    contextvars.copy_context().run(request)


def test_identifiers_are_sanitised() -> None:
    """Separators that could smuggle baggage entries are replaced; length is capped."""
    assert sanitize_identifier("a,b;c=d e") == "a%2Cb%3Bc=d%20e"
    assert sanitize_identifier("acme corp") != sanitize_identifier("acme_corp")
    long_a, long_b = "x" * 1000 + "a", "x" * 1000 + "b"
    assert len(sanitize_identifier(long_a) or "") == 128
    assert sanitize_identifier(long_a) != sanitize_identifier(long_b)
    assert sanitize_identifier("t-42") == "t-42"
    assert sanitize_identifier(None) is None


def test_log_processor_copies_tenant_onto_foreign_records() -> None:
    """Records from other emitters get tenant/user; the distro's own bridge is skipped."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    from otel_distro.processors.baggage import BaggageAttributesLogProcessor

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(BaggageAttributesLogProcessor(("tenant.id", "user.id")))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    from opentelemetry._logs import LogRecord

    with set_tenant(tenant_id="acme", user_id="u1"):
        provider.get_logger("vendor.lib").emit(LogRecord(body="foreign"))
        provider.get_logger("otel_distro.logging").emit(LogRecord(body="ours"))
    attributes = {
        record.log_record.body: dict(record.log_record.attributes or {})
        for record in exporter.get_finished_logs()
    }
    assert attributes["foreign"] == {"tenant.id": "acme", "user.id": "u1"}
    assert attributes["ours"] == {}
