"""With ``OTEL_CONFIG_FILE``, what the file configured exports redacted, or not at all."""

from __future__ import annotations

import secrets

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.exporters._config_file import redact_configured
from otel_distro.exporters.redacting import RedactingLogRecordExporter


class Opaque(SpanProcessor):
    """A processor whose export path the distro cannot see."""

    def __init__(self) -> None:
        self.shut = False

    def shutdown(self) -> None:
        self.shut = True


@pytest.fixture
def providers() -> tuple[TracerProvider, LoggerProvider, MeterProvider]:
    return (
        TracerProvider(shutdown_on_exit=False),
        LoggerProvider(shutdown_on_exit=False),
        MeterProvider(shutdown_on_exit=False),
    )


def test_file_configured_span_exporters_export_redacted(
    providers: tuple[TracerProvider, LoggerProvider, MeterProvider],
) -> None:
    """A span exporter the file configured receives the span with its secret redacted."""
    tracer_provider, logger_provider, meter_provider = providers
    exporter = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    redact_configured(tracer_provider, logger_provider, meter_provider, "otel.yaml")
    secret = secrets.token_urlsafe(24)
    with tracer_provider.get_tracer("t").start_as_current_span("op") as span:
        span.set_attribute("password", secret)
        span.set_attribute("note", f"password={secret}")
    exported = exporter.get_finished_spans()
    assert len(exported) == 1
    assert secret not in repr(dict(exported[0].attributes or {}))


def test_file_configured_log_exporters_are_wrapped(
    providers: tuple[TracerProvider, LoggerProvider, MeterProvider],
) -> None:
    """A log exporter the file configured sits behind the redacting wrapper."""
    tracer_provider, logger_provider, meter_provider = providers
    processor = SimpleLogRecordProcessor(InMemoryLogRecordExporter())
    logger_provider.add_log_record_processor(processor)
    redact_configured(tracer_provider, logger_provider, meter_provider, "otel.yaml")
    assert isinstance(processor._exporter, RedactingLogRecordExporter)


def test_what_cannot_be_wrapped_is_shut_down(
    providers: tuple[TracerProvider, LoggerProvider, MeterProvider],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An opaque processor or a pull reader is shut down, and one line names them."""
    tracer_provider, logger_provider, _ = providers
    opaque = Opaque()
    tracer_provider.add_span_processor(opaque)
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    _wrapped, refused = redact_configured(
        tracer_provider, logger_provider, meter_provider, "otel.yaml"
    )
    assert opaque.shut
    assert sorted(refused) == ["InMemoryMetricReader", "Opaque"]
    said = [line for line in capsys.readouterr().err.splitlines() if "OTEL_CONFIG_FILE" in line]
    assert len(said) == 1 and "shut down" in said[0]
