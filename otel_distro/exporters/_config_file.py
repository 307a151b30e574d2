"""Redaction for providers the SDK built from ``OTEL_CONFIG_FILE`` (declarative configuration).

With ``OTEL_CONFIG_FILE`` set the SDK configures itself from the file and ignores the
distro's processors.  Telemetry must still never leave unredacted, so every exporter
the file configured is wrapped in the redacting wrapper of its signal (in the export
thread, as usual).  A component whose export path cannot be reached (an unknown
span or log processor, a pull-based metric reader) is shut down instead, and one line
says so: no unredacted export, ever.
"""

from __future__ import annotations

from typing import Any

from otel_distro._report import report

__all__ = ["redact_configured"]


def _span_processors(provider: Any, wrapped: list[str], refused: list[str]) -> None:
    from otel_distro.exporters.redacting import RedactingSpanExporter

    active = getattr(provider, "_active_span_processor", None)
    for processor in getattr(active, "_span_processors", ()):
        batch = getattr(processor, "_batch_processor", None)
        if batch is not None and getattr(batch, "_exporter", None) is not None:
            if not isinstance(batch._exporter, RedactingSpanExporter):
                batch._exporter = RedactingSpanExporter(batch._exporter)
            wrapped.append(type(processor).__name__)
        elif getattr(processor, "span_exporter", None) is not None:
            if not isinstance(processor.span_exporter, RedactingSpanExporter):
                processor.span_exporter = RedactingSpanExporter(processor.span_exporter)
            wrapped.append(type(processor).__name__)
        else:
            processor.shutdown()
            refused.append(type(processor).__name__)


def _log_processors(provider: Any, wrapped: list[str], refused: list[str]) -> None:
    from otel_distro.exporters.redacting import RedactingLogRecordExporter

    multi = getattr(provider, "_multi_log_record_processor", None)
    for processor in getattr(multi, "_log_record_processors", ()):
        holder = getattr(processor, "_batch_processor", None) or processor
        exporter = getattr(holder, "_exporter", None)
        if exporter is not None:
            if not isinstance(exporter, RedactingLogRecordExporter):
                holder._exporter = RedactingLogRecordExporter(exporter)
            wrapped.append(type(processor).__name__)
        else:
            processor.shutdown()
            refused.append(type(processor).__name__)


def _metric_readers(provider: Any, wrapped: list[str], refused: list[str]) -> None:
    from opentelemetry.sdk.metrics.export import MetricExporter

    from otel_distro.exporters.redacting import RedactingMetricExporter

    for reader in getattr(provider, "_metric_readers", ()):
        exporter = getattr(reader, "_exporter", None)
        if isinstance(exporter, MetricExporter):
            if not isinstance(exporter, RedactingMetricExporter):
                reader._exporter = RedactingMetricExporter(exporter)
            wrapped.append(type(reader).__name__)
        else:
            reader.shutdown()
            refused.append(type(reader).__name__)


def redact_configured(
    tracer_provider: Any, logger_provider: Any, meter_provider: Any, config_file: str = ""
) -> tuple[list[str], list[str]]:
    """Wrap every exporter of the given providers with redaction; shut down what cannot be.

    Returns the names of the wrapped and of the refused components; one line names
    the refused ones.  If wrapping itself fails, all three providers are shut down.
    """
    wrapped: list[str] = []
    refused: list[str] = []
    try:
        _span_processors(tracer_provider, wrapped, refused)
        _log_processors(logger_provider, wrapped, refused)
        _metric_readers(meter_provider, wrapped, refused)
    except Exception as exc:
        for provider in (tracer_provider, logger_provider, meter_provider):
            shutdown = getattr(provider, "shutdown", None)
            if callable(shutdown):
                try:
                    shutdown()
                except Exception:  # noqa: S112 - refusing to export is the point
                    continue
        report(
            f"OTEL_CONFIG_FILE={config_file!r}: redaction could not be installed into the "
            f"configured providers ({type(exc).__name__}); telemetry export is OFF"
        )
        return wrapped, ["all"]
    if refused:
        report(
            f"OTEL_CONFIG_FILE={config_file!r}: {', '.join(sorted(set(refused)))} cannot be "
            "wrapped with otel-distro's redaction and was shut down (no unredacted export)"
        )
    return wrapped, refused
