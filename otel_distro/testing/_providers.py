"""One set of global SDK providers per test process, switched to the active capture.

The OpenTelemetry API lets a process set its global providers once, and tracers and
meters taken from the proxies keep the first real provider.  So the providers are set
once (or, when the application already set SDK providers, joined) and every span, log
record and metric collection is routed to the capture that is active at that moment.
Nothing is shared between processes: each pytest-xdist worker has its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider, set_logger_provider
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, MetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:
    from otel_distro.testing._capture import Capture

__all__ = ["Providers", "active", "providers"]

_lock = threading.Lock()


class _Active:
    """The capture receiving the process's telemetry now (``None`` outside a capture)."""

    capture: Capture | None = None


active = _Active()


class _SwitchSampler(Sampler):
    """The active capture's sampler (the distro's), or always-on outside a capture."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        capture = active.capture
        sampler = capture.sampler if capture is not None else ALWAYS_ON
        return sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "OtelCaptureSampler"


class _SpanSwitch(SpanProcessor):
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        capture = active.capture
        if capture is not None:
            capture.span_processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        capture = active.capture
        if capture is not None:
            capture.span_processor.on_end(span)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _LogSwitch(LogRecordProcessor):
    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        capture = active.capture
        if capture is not None:
            for processor in capture.log_processors:
                processor.on_emit(log_record)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_DELTA: dict[type, AggregationTemporality] = {
    kind: AggregationTemporality.DELTA
    for kind in (
        Counter,
        UpDownCounter,
        Histogram,
        ObservableCounter,
        ObservableUpDownCounter,
        ObservableGauge,
    )
}


class _MetricSwitch(MetricReader):
    """Hands every collection (delta points) to the active capture, whoever collects."""

    def __init__(self) -> None:
        super().__init__(preferred_temporality=_DELTA)

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        capture = active.capture
        if capture is not None and metrics_data is not None and metrics_data.resource_metrics:
            capture.receive_metrics(metrics_data)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


class Providers:
    """The process's tracer, logger and meter providers as the captures use them."""

    def __init__(self) -> None:
        self.reader = _MetricSwitch()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer_provider = _tracer_provider()
        self.logger_provider = _logger_provider()
        self.metrics_global = _set_meter_provider(self.meter_provider)

    def collect_metrics(self) -> None:
        """Hand everything measured since the last collection to the active capture."""
        self.reader.collect()


def _tracer_provider() -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        current.add_span_processor(_SpanSwitch())  # the application's own SDK provider
        return current
    provider = TracerProvider(sampler=_SwitchSampler(), shutdown_on_exit=False)
    provider.add_span_processor(_SpanSwitch())
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        raise RuntimeError(
            "otel_capture: the global tracer provider was already set to "
            f"{type(current).__name__}, which cannot be captured"
        )
    return provider


def _logger_provider() -> LoggerProvider:
    current = get_logger_provider()
    if isinstance(current, LoggerProvider):
        current.add_log_record_processor(_LogSwitch())
        return current
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(_LogSwitch())
    set_logger_provider(provider)
    return provider  # passed to the log bridge even when another provider is global


def _set_meter_provider(provider: MeterProvider) -> bool:
    """Make ``provider`` global if no meter provider was set (``False`` if one was)."""
    current = metrics.get_meter_provider()
    if isinstance(current, MeterProvider):
        return False
    metrics.set_meter_provider(provider)
    return metrics.get_meter_provider() is provider


class _Holder:
    providers: Providers | None = None


_holder = _Holder()


def providers() -> Providers:
    """The process's providers, set up on first use."""
    with _lock:
        if _holder.providers is None:
            _holder.providers = Providers()
        return _holder.providers
