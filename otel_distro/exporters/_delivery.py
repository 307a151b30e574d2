"""Delivery accounting: outages said once (then at most once a minute), drops counted.

Every exporter behind a batch processor or a metric reader is wrapped in a
counting wrapper (:func:`install_delivery`).  The wrappers know, per endpoint,
whether the last export succeeded: the first failure starts an *outage* and
prints one line (which endpoint, why, and that telemetry is buffered up to the
queue bounds and dropped beyond them); while it lasts, at most one line per
:data:`REPORT_INTERVAL` with counts; the first success after it prints one line
saying it recovered and what was lost.  The SDK's own per-batch warnings
(``Transient error ... retrying``, ``Failed to export ...``, ``Queue full ...``)
are filtered out of the exporters' loggers: they are what these lines count.

Items lost (export failed, or the queue was full) are counted by signal and
exported as the ``otel_distro.export.dropped`` counter.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_distro._report import internal_error
from otel_distro._state import slot

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Meter, Observation

__all__ = [
    "REPORT_INTERVAL",
    "Endpoint",
    "TrackedLogExporter",
    "TrackedMetricExporter",
    "TrackedSpanExporter",
    "abandon_retries",
    "announce_unreachable",
    "dropped_counts",
    "endpoint_names",
    "endpoint_of",
    "inflight_counts",
    "install_delivery",
    "observe_dropped",
    "quiet_exporter_loggers",
    "say",
]

#: Seconds between two "still failing" lines of one outage.
REPORT_INTERVAL = 60.0
SIGNALS = ("spans", "logs", "metrics")
_UNITS = {"spans": "spans", "logs": "log records", "metrics": "metric points"}
# Loggers the SDK's exporters and batch processors write per-batch/per-item noise to.
EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.metrics._internal.export",
)
_NOISE = (
    "Transient error",
    "Failed to export",
    "Shutdown in progress",
    "Exporter already shutdown",
    "OTLP client already shutdown",
    "Queue full",
)
_QUEUE_SIGNAL = {"span": "spans", "log": "logs"}


def say(message: str) -> None:
    """Print one ``otel-distro:`` line on stderr (every time; never raises)."""
    try:
        print(f"otel-distro: {message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: S110 - a closed stderr must not break the app
        pass


def describe(items: dict[str, int]) -> str:
    """``3 spans, 1 log record`` from counts by signal (only the non-zero ones)."""
    parts = []
    for signal in SIGNALS:
        count = items.get(signal, 0)
        if count:
            unit = _UNITS[signal]
            parts.append(f"{count} {unit if count != 1 else unit[:-1]}")
    return ", ".join(parts) or "nothing"


def reason_of(error: object) -> str:
    """A short, data-free reason for a failed export."""
    text = str(error)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered or "deadline" in lowered:
        return "no answer in time"
    if "unavailable" in lowered:
        return "unavailable"
    if "name or service not known" in lowered or "nodename" in lowered:
        return "unknown host"
    if isinstance(error, BaseException):
        return type(error).__name__
    return text[:80] or "failed"


@dataclass
class Endpoint:
    """Delivery state of one endpoint (shared by the signals that export to it)."""

    name: str
    clock: Callable[[], float] = time.monotonic
    interval: float = REPORT_INTERVAL
    outage_since: float | None = None
    announced: bool = False
    last_line: float = 0.0
    reason: str = "failed"
    failed: dict[str, int] = field(default_factory=dict)  # in this outage
    failed_since_line: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def down_at_startup(self, reason: str) -> None:
        """The endpoint did not answer at startup (the one line was already said)."""
        with self.lock:
            self.outage_since = self.clock()
            self.announced = True
            self.last_line = self.clock()
            self.reason = reason

    def failure(self, signal: str, items: int) -> None:
        """One export of ``items`` failed."""
        _dropped.value[signal] = _dropped.value.get(signal, 0) + items
        now = self.clock()
        with self.lock:
            self.failed[signal] = self.failed.get(signal, 0) + items
            self.failed_since_line[signal] = self.failed_since_line.get(signal, 0) + items
            if self.outage_since is None:
                self.outage_since = now
            if not self.announced:
                self.announced = True
                self.last_line = now
                self.failed_since_line = {}
                line = (
                    f"cannot export to {self.name} ({self.reason}); telemetry is buffered in "
                    "memory up to the queue bounds (OTEL_BSP_MAX_QUEUE_SIZE, "
                    "OTEL_BLRP_MAX_QUEUE_SIZE) and dropped beyond them; retrying, "
                    f"{describe({signal: items})} lost so far"
                )
            elif now - self.last_line >= self.interval:
                lost = describe(self.failed_since_line)
                minutes = now - self.last_line
                self.last_line = now
                self.failed_since_line = {}
                line = (
                    f"still cannot export to {self.name} ({self.reason}) after "
                    f"{now - self.outage_since:.0f}s: {lost} lost in the last {minutes:.0f}s"
                )
            else:
                return
        say(line)

    def success(self) -> None:
        """One export succeeded: ends an outage (one line)."""
        if self.outage_since is None:
            return
        with self.lock:
            if self.outage_since is None:
                return
            took = self.clock() - self.outage_since
            lost = describe(self.failed)
            self.outage_since = None
            self.announced = False
            self.failed = {}
            self.failed_since_line = {}
        say(f"export to {self.name} recovered after {took:.1f}s ({lost} lost during the outage)")


_endpoints = slot("exporters.delivery.endpoints", dict[str, Endpoint])
_dropped = slot("exporters.delivery.dropped", dict[str, int])
_inflight = slot("exporters.delivery.inflight", dict[str, int])
_last_reason = slot("exporters.delivery.last_reason", dict[str, str])
_trackers = slot("exporters.delivery.trackers", list["_Tracker"])
_inflight_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child starts with fresh locks and no exports in flight (its threads are gone)."""
    global _inflight_lock
    _inflight_lock = threading.Lock()
    _inflight.value = {}
    for state in _endpoints.value.values():
        state.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def endpoint_of(exporter: object) -> str:
    """``scheme://host:port`` the exporter sends to, else its type name."""
    inner = exporter
    for _ in range(5):  # through our wrappers to the real exporter
        if getattr(inner, "_endpoint", None) or getattr(inner, "_exporter", None) is None:
            break
        inner = inner._exporter  # type: ignore[attr-defined]
    raw = getattr(inner, "_endpoint", None)
    if isinstance(raw, str) and raw:
        parts = urlsplit(raw if "://" in raw else f"http://{raw}")
        if parts.hostname:
            port = f":{parts.port}" if parts.port else ""
            return f"{parts.scheme}://{parts.hostname}{port}"
    return f"the {type(inner).__name__}"


def endpoint(name: str) -> Endpoint:
    """The shared state for endpoint ``name``."""
    found = _endpoints.value.get(name)
    if found is None:
        found = _endpoints.value.setdefault(name, Endpoint(name))
    return found


def endpoint_names() -> str:
    """The endpoints exported to so far, comma-separated."""
    return ", ".join(sorted(_endpoints.value))


def dropped_counts() -> dict[str, int]:
    """Items lost so far (export failed or queue full), by signal."""
    return dict(_dropped.value)


def inflight_counts() -> dict[str, int]:
    """Items handed to an exporter whose export has not returned yet, by signal."""
    with _inflight_lock:
        return {k: v for k, v in _inflight.value.items() if v}


def _innermost(exporter: object) -> object:
    for _ in range(5):
        inner = getattr(exporter, "_exporter", None)
        if inner is None:
            break
        exporter = inner
    return exporter


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


def abandon_retries() -> None:
    """Stop the retry waits of exporters whose endpoint is failing (at shutdown).

    Their remaining batches get one attempt each instead of backing off until
    the OTLP timeout; exporters of healthy endpoints are left alone.
    """
    for tracker in list(_trackers.value):
        if tracker.state.outage_since is None:
            continue
        inner = _innermost(tracker.exporter)
        for event in (
            getattr(getattr(inner, "_client", None), "_shutdown_event", None),
            getattr(inner, "_shutdown_in_progress", None),
        ):
            if isinstance(event, threading.Event):
                event.set()


def _add_inflight(signal: str, items: int) -> None:
    with _inflight_lock:
        _inflight.value[signal] = _inflight.value.get(signal, 0) + items


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


# --- the SDK's per-batch log lines ------------------------------------------------


class _QuietFilter(logging.Filter):
    """Drops the per-batch export warnings; keeps their reason and counts queue drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = str(record.msg)
            if not message.startswith(_NOISE):
                return True
            args = record.args if isinstance(record.args, tuple) else ()
            if message.startswith("Queue full") and args:
                signal = _QUEUE_SIGNAL.get(str(args[0]).lower())
                if signal:
                    _dropped.value[signal] = _dropped.value.get(signal, 0) + 1
            elif message.startswith(("Transient error", "Failed to export")):
                signal = _signal_of(record.name, args)
                error = args[-1] if message.startswith("Failed to export %s batch code") else None
                if message.startswith("Transient error") and args:
                    error = args[0]
                if signal and error is not None:
                    _last_reason.value[signal] = reason_of(error)
            return False
        except Exception:
            internal_error("exporters.delivery.filter")
            return True


def _signal_of(logger: str, args: tuple[object, ...]) -> str | None:
    for arg in args:
        if arg in SIGNALS:
            return str(arg)
    if "trace" in logger:
        return "spans"
    if "log" in logger:
        return "logs"
    if "metric" in logger:
        return "metrics"
    return None


_filter = _QuietFilter()


def quiet_exporter_loggers() -> None:
    """Install the filter on the SDK exporters' loggers (idempotent)."""
    for name in EXPORTER_LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:  # first: before the SDK's duplicate filter
            logger.filters.insert(0, _filter)


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


def _probe(name: str, timeout: float = 0.3) -> str | None:
    """None when a TCP connection to endpoint ``name`` succeeds, else why not."""
    parts = urlsplit(name)
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return "no answer"
    except (OSError, ValueError) as error:
        return reason_of(error)


def _queue_bounds() -> str:
    spans = os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE", "").strip() or "2048"
    logs = os.environ.get("OTEL_BLRP_MAX_QUEUE_SIZE", "").strip() or "2048"
    return f"{spans} spans and {logs} log records"


def announce_unreachable() -> None:
    """One line per OTLP endpoint that does not accept a connection at startup."""
    for name, state in sorted(_endpoints.value.items()):
        if "://" not in name:
            continue
        reason = _probe(name)
        if reason is None:
            continue
        state.down_at_startup(reason)
        say(
            f"the OTLP endpoint {name} does not answer ({reason}): telemetry is buffered in "
            f"memory up to the queue bounds ({_queue_bounds()}; metrics keep only the latest "
            "values) and dropped beyond them; it is sent when the endpoint answers, "
            "without a restart"
        )


def observe_dropped(meter: Meter) -> None:
    """Create the ``otel_distro.export.dropped`` counter (by ``signal``) on ``meter``."""

    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        from opentelemetry.metrics import Observation

        counts = dropped_counts()
        return [Observation(counts.get(signal, 0), {"signal": signal}) for signal in SIGNALS]

    meter.create_observable_counter(
        "otel_distro.export.dropped",
        callbacks=[callback],
        unit="{item}",
        description="Telemetry lost because its export failed or its queue was full, by signal.",
    )
