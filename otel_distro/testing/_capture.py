"""``Capture``: the distro's real pipeline with in-memory exporters, and readable queries.

:meth:`Capture.start` resets the distro's process state, loads the settings from the
environment, installs the propagators (trusted baggage), the span processors
(baggage copy, access log, signature events), the redacting span exporter, the log
processors (baggage copy, redaction) and the structlog/stdlib bridge, and the
security state; :meth:`Capture.stop` undoes all of it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics.export import (
    Histogram,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Sampler
from opentelemetry.trace import SpanKind

from otel_distro.testing._otlp import OtlpReceiver, RemotePoint
from otel_distro.testing._providers import active, providers
from otel_distro.testing._records import (
    LogRecord,
    MetricPoint,
    SpanRecord,
    Trace,
    level_range,
)

if TYPE_CHECKING:
    from otel_distro.testing._launch import Launched

__all__ = ["Capture"]

T = TypeVar("T")


class _MemoryMetricExporter(MetricExporter):
    """Keeps every batch it is given (behind the distro's redacting wrapper)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[MetricsData] = []

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.batches.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


class Capture:
    """What the application emitted during one test, as its exporters received it."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(env or {})
        self._spans = InMemorySpanExporter()
        self._logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self._metrics = _MemoryMetricExporter()
        self._metric_wrapper: MetricExporter | None = None
        self.span_processor: SpanProcessor = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        self.log_processors: list[LogRecordProcessor] = []
        self.sampler: Sampler
        self._saved_env: dict[str, str | None] = {}
        self._saved_textmap: TextMapPropagator | None = None
        self._saved_context: Context | None = None
        self._saved_root: tuple[list[logging.Handler], int] | None = None
        self.settings: Any = None
        self._receiver: OtlpReceiver | None = None

    # --- set-up and tear-down ------------------------------------------------------

    def start(self) -> Capture:
        """Install the pipeline and make this capture the process's active one."""
        if active.capture is not None:
            raise RuntimeError("otel_capture: another capture is already active")
        try:
            self._install()
        except BaseException:
            self.stop()
            raise
        return self

    def _install(self) -> None:
        from otel_distro import logging as distro_logging
        from otel_distro.config import get_settings
        from otel_distro.configurator import (
            _log_processors,
            _sampler,
            _span_processors,
            install_propagators,
        )
        from otel_distro.exporters.redacting import RedactingMetricExporter, RedactingSpanExporter
        from otel_distro.security import reset_security

        for name, value in self.env.items():
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        root = logging.getLogger()
        self._saved_root = (list(root.handlers), root.level)
        self._saved_context = otel_context.get_current()
        self._saved_textmap = propagate.get_global_textmap()
        _reset_distro()
        self.settings = settings = get_settings()
        shared = providers()
        shared.collect_metrics()  # what was measured before this capture is not its own
        self.sampler = _sampler(settings)  # reports an unusable OTEL_TRACES_SAMPLER itself
        multi = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        for processor in _span_processors(settings):
            multi.add_span_processor(processor)
        multi.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(self._spans)))
        self.span_processor = multi
        self.log_processors = [*_log_processors(settings), SimpleLogRecordProcessor(self._logs)]
        self._metric_wrapper = RedactingMetricExporter(self._metrics)
        install_propagators(settings)
        reset_security(settings, shared.meter_provider)
        active.capture = self
        distro_logging.configure(settings, shared.logger_provider)

    def stop(self) -> None:
        """Undo :meth:`start`: the process is as it was before (state, env, logging)."""
        try:
            providers().collect_metrics()
            if self._receiver is not None:
                self._receiver.stop()
        finally:
            active.capture = None
            _reset_distro()
            if self._saved_textmap is not None:
                propagate.set_global_textmap(self._saved_textmap)
            if self._saved_root is not None:
                root = logging.getLogger()
                root.handlers[:] = self._saved_root[0]
                root.setLevel(self._saved_root[1])
            if self._saved_context is not None:
                otel_context.attach(self._saved_context)
            for name, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            _reset_distro()

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- queries -------------------------------------------------------------------

    def _flush(self) -> None:
        from otel_distro import logging as distro_logging

        distro_logging.flush()

    def spans(
        self, name: str | None = None, kind: str | SpanKind | None = None
    ) -> list[SpanRecord]:
        """Finished spans in end order, optionally only those called ``name`` / of ``kind``."""
        self._flush()
        wanted = kind.name if isinstance(kind, SpanKind) else (kind.upper() if kind else None)
        found = [SpanRecord.of(s) for s in self._spans.get_finished_spans()]
        found += self._remote()[0]
        return [
            s
            for s in found
            if (name is None or s.name == name) and (wanted is None or s.kind == wanted)
        ]

    def logs(self, event: object = None, level: str | None = None) -> list[LogRecord]:
        """Exported log records, optionally only the ``event`` ones / of ``level``."""
        self._flush()
        low, high = level_range(level) if level is not None else (0, 1 << 30)
        found = [LogRecord.of(r) for r in self._logs.get_finished_logs()]
        found += self._remote()[1]
        return [
            r
            for r in found
            if (event is None or r.event == event) and low <= r.severity_number <= high
        ]

    def receive_metrics(self, data: MetricsData) -> None:
        """Keep one collection (through the distro's redacting metric exporter)."""
        if self._metric_wrapper is not None:
            self._metric_wrapper.export(data)

    def _collect(self) -> None:
        if active.capture is self:
            providers().collect_metrics()

    def metric(self, name: str) -> list[MetricPoint]:
        """The points of the metric ``name`` (totals since the capture started), one per
        attribute set; ``[]`` when nothing was measured."""
        self._collect()
        merged: dict[str, tuple[dict[str, Any], float, int | None]] = {}
        for data, item in self._metric_items(name):
            for point in item.data_points:
                attributes = dict(point.attributes or {})
                key = json.dumps(attributes, sort_keys=True, default=str)
                before = merged.get(key)
                if isinstance(data, Histogram):
                    total, count = float(point.sum), int(point.count)
                    if before is not None:
                        total += before[1]
                        count += before[2] or 0
                    merged[key] = (attributes, total, count)
                elif isinstance(data, Sum):
                    merged[key] = (attributes, point.value + (before[1] if before else 0), None)
                else:
                    merged[key] = (attributes, point.value, None)
        for metric_name, kind, cumulative, r_attrs, r_value, r_count in self._remote()[2]:
            if metric_name != name:
                continue
            key = "remote:" + json.dumps(r_attrs, sort_keys=True, default=str)
            before = merged.get(key)
            if before is not None and not cumulative and kind != "gauge":
                r_value += before[1]
                r_count = None if r_count is None else r_count + (before[2] or 0)
            merged[key] = (r_attrs, r_value, r_count)
        return [MetricPoint(a, v, c) for a, v, c in merged.values()]

    # --- a real process exporting over OTLP --------------------------------------------

    @property
    def otlp_endpoint(self) -> str:
        """An OTLP/HTTP endpoint on 127.0.0.1 whose received telemetry joins the queries
        (for ``OTEL_EXPORTER_OTLP_ENDPOINT`` of a real ``uvicorn`` launch)."""
        if self._receiver is None:
            self._receiver = OtlpReceiver()
        return self._receiver.endpoint

    def launch(
        self,
        app: str,
        *,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        cwd: str | Path | None = None,
        startup_timeout: float = 30.0,
    ) -> AbstractContextManager[Launched]:
        """``with capture.launch("app.main:app") as server:`` runs ``opentelemetry-instrument
        uvicorn`` on ``server.url``, exporting into this capture; the ``with`` block's end
        stops it with SIGTERM, so its last telemetry is flushed into the queries."""
        from otel_distro.testing._launch import launch

        return launch(
            self.otlp_endpoint, app, env=env, args=args, cwd=cwd, startup_timeout=startup_timeout
        )

    def _remote(self) -> tuple[list[SpanRecord], list[LogRecord], list[RemotePoint]]:
        if self._receiver is None:
            return [], [], []
        return self._receiver.snapshot()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 15.0) -> T:
        """Poll ``predicate`` until it returns something truthy (a real process exports in
        batches); raise ``AssertionError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"nothing matched within {timeout} s")
            time.sleep(0.05)

    def _metric_items(self, name: str) -> Iterator[tuple[Any, Any]]:
        for batch in self._metrics.batches:
            for resource in batch.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        if metric.name == name:
                            yield metric.data, metric.data

    def trace(self, trace_id: str | int) -> Trace:
        """The spans and log records of one trace (hex string or integer id)."""
        wanted = format(trace_id, "032x") if isinstance(trace_id, int) else trace_id.lower()
        spans = [s for s in self.spans() if s.trace_id == wanted]
        logs = [r for r in self.logs() if r.trace_id == wanted]
        return Trace(wanted, spans, logs)

    def clear(self) -> None:
        """Forget everything captured so far (the pipeline stays installed)."""
        self._flush()
        self._spans.clear()
        self._logs.clear()
        self._collect()
        self._metrics.batches.clear()
        if self._receiver is not None:
            self._receiver.clear()

    # --- secrets -------------------------------------------------------------------

    def _texts(self) -> Iterator[tuple[str, str]]:
        for span in self.spans():
            yield f"span {span.name!r}", _text(span)
        for record in self.logs():
            yield f"log record {record.event!r}", _text(record)
        self._collect()
        for batch in self._metrics.batches:
            for resource in batch.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        yield f"metric {metric.name!r}", _text(metric)

    def find(self, value: str) -> list[str]:
        """Where ``value`` appears in any captured span, log record or metric."""
        return [where for where, text in self._texts() if value in text]

    def assert_no_secret(self, value: str | Sequence[str]) -> None:
        """Fail if ``value`` (or any of several values) appears in any captured signal."""
        values = [value] if isinstance(value, str) else list(value)
        if not values or any(not v for v in values):
            raise ValueError("assert_no_secret needs non-empty values")
        for secret in values:
            found = self.find(secret)
            if found:
                places = ", ".join(found[:5])
                raise AssertionError(
                    f"a secret ({len(secret)} characters) was exported in: {places}"
                )


def _reset_distro() -> None:
    """Every piece of the distro's process state back to its start (settings included)."""
    from otel_distro import _state
    from otel_distro.asgi import reset_hook_state
    from otel_distro.config import reset_settings

    _state.reset()
    reset_settings()
    reset_hook_state()


def _text(item: object) -> str:
    """Every string an item carries (keys and values, nested), as one searchable text."""
    return "\n".join(_strings(item, 0))


def _strings(item: object, depth: int) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(item, str):
        yield item
    elif isinstance(item, bytes):
        yield item.decode("utf-8", "replace")
    elif isinstance(item, Mapping):
        for key, value in item.items():
            yield str(key)
            yield from _strings(value, depth + 1)
    elif isinstance(item, (list, tuple, set, frozenset)):
        for value in item:
            yield from _strings(value, depth + 1)
    elif dataclasses.is_dataclass(item) and not isinstance(item, type):
        for f in dataclasses.fields(item):
            yield from _strings(getattr(item, f.name), depth + 1)
    elif item is not None and not isinstance(item, (int, float, bool)):
        yield str(item)
