"""Counting wrappers around the SDK's exporters, and their wiring into fresh providers.

Each wrapper counts what its exporter delivers and loses and reports to the
endpoint's shared state in :mod:`otel_distro.exporters._delivery`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_distro._report import internal_error
from otel_distro.exporters._delivery import (
    _add_inflight,
    _innermost,
    _last_reason,
    _trackers,
    endpoint,
    endpoint_of,
    reason_of,
)
from otel_distro.exporters._quiet import quiet_exporter_loggers

__all__ = [
    "TrackedLogExporter",
    "TrackedMetricExporter",
    "TrackedSpanExporter",
    "install_delivery",
]


def _watch_transport(signal: str, exporter: object) -> None:
    """Note why the OTLP/HTTP transport's requests fail (status or error kind, no data)."""
    transport = getattr(getattr(_innermost(exporter), "_client", None), "_transport", None)
    request = getattr(transport, "request", None)
    if request is None or getattr(request, "_otel_distro_watched", False):
        return

    def watched(*args: Any, **kwargs: Any) -> Any:
        result = request(*args, **kwargs)
        try:
            code = getattr(result, "status_code", None)
            error = getattr(result, "error", None)
            if isinstance(code, int) and not 200 <= code < 400:
                _last_reason.value[signal] = f"HTTP {code}"
            elif error is not None:
                _last_reason.value[signal] = reason_of(error)
        except Exception:
            internal_error("exporters.delivery.transport")
        return result

    watched._otel_distro_watched = True  # type: ignore[attr-defined]
    try:
        transport.request = watched  # type: ignore[union-attr]
    except Exception:
        internal_error("exporters.delivery.watch")


class _Tracker:
    def __init__(self, signal: str, exporter: object) -> None:
        self.signal = signal
        self.exporter = exporter
        self.state = endpoint(endpoint_of(exporter))
        _trackers.value.append(self)
        _watch_transport(signal, exporter)

    def run(self, items: int, call: Callable[[], bool]) -> bool:
        _add_inflight(self.signal, items)
        ok = False
        try:
            ok = call()
        finally:
            _add_inflight(self.signal, -items)
            try:
                if ok:
                    self.state.success()
                elif items:
                    self.state.reason = _last_reason.value.get(self.signal, self.state.reason)
                    self.state.failure(self.signal, items)
            except Exception:
                internal_error("exporters.delivery.account")
        return ok


class TrackedSpanExporter(SpanExporter):
    """Counts what ``exporter`` delivers and loses; says outages once."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter
        self._tracker = _Tracker("spans", exporter)

    def __repr__(self) -> str:
        return f"TrackedSpanExporter({self._exporter!r})"

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        results: list[SpanExportResult] = []

        def call() -> bool:
            results.append(self._exporter.export(spans))
            return results[0] is SpanExportResult.SUCCESS

        self._tracker.run(len(spans), call)
        return results[0] if results else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class TrackedLogExporter(LogRecordExporter):
    """Counts what ``exporter`` delivers and loses; says outages once."""

    def __init__(self, exporter: LogRecordExporter) -> None:
        self._exporter = exporter
        self._tracker = _Tracker("logs", exporter)

    def __repr__(self) -> str:
        return f"TrackedLogExporter({self._exporter!r})"

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        results: list[LogRecordExportResult] = []

        def call() -> bool:
            results.append(self._exporter.export(batch))
            return results[0] is LogRecordExportResult.SUCCESS

        self._tracker.run(len(batch), call)
        return results[0] if results else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _points(data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )


class TrackedMetricExporter(MetricExporter):
    """Counts the metric points ``exporter`` delivers and loses; says outages once."""

    def __init__(self, exporter: MetricExporter) -> None:
        super().__init__(
            preferred_temporality=getattr(exporter, "_preferred_temporality", None),
            preferred_aggregation=getattr(exporter, "_preferred_aggregation", None),
        )
        self._exporter = exporter
        self._tracker = _Tracker("metrics", exporter)

    def __repr__(self) -> str:
        return f"TrackedMetricExporter({self._exporter!r})"

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        results: list[MetricExportResult] = []

        def call() -> bool:
            results.append(
                self._exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            )
            return results[0] is MetricExportResult.SUCCESS

        try:
            points = _points(metrics_data)
        except Exception:
            points = 0
        self._tracker.run(points, call)
        return results[0] if results else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._exporter.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._exporter.shutdown(timeout_millis=timeout_millis, **kwargs)


# --- wiring -----------------------------------------------------------------------


def _wrap_batch(processor: object, wrap: Callable[[Any], Any]) -> None:
    batch = getattr(processor, "_batch_processor", None)
    exporter = getattr(batch, "_exporter", None)
    if batch is None or exporter is None:
        return
    if not isinstance(exporter, (TrackedSpanExporter, TrackedLogExporter)):
        batch._exporter = wrap(exporter)


def install_delivery(
    tracer_provider: object, logger_provider: object, meter_provider: object
) -> None:
    """Wrap every batched and periodic exporter of the SDK providers; quiet their loggers.

    Runs right after the providers were built, before their first export.
    """
    quiet_exporter_loggers()
    active = getattr(tracer_provider, "_active_span_processor", None)
    for processor in getattr(active, "_span_processors", ()):
        _wrap_batch(processor, TrackedSpanExporter)
    multi = getattr(logger_provider, "_multi_log_record_processor", None)
    for processor in getattr(multi, "_log_record_processors", ()):
        _wrap_batch(processor, TrackedLogExporter)
    for reader in getattr(meter_provider, "_metric_readers", ()):
        exporter = getattr(reader, "_exporter", None)
        if isinstance(exporter, MetricExporter) and not isinstance(exporter, TrackedMetricExporter):
            reader._exporter = TrackedMetricExporter(exporter)
