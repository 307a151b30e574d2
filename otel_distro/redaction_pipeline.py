"""The OpenTelemetry side of redaction: every signal passes the one engine.

* spans: :class:`RedactingSpanExporter` rebuilds each finished span (name,
  attributes, status description, events, links, resource) in the export
  thread and hands the copies to the real exporter;
* logs: :class:`RedactingLogRecordProcessor`, registered before the batch
  processor, rewrites body, attributes and resource in ``on_emit``; records of
  our own ``otel_distro*`` loggers were redacted by the structlog bridge and
  are skipped (one pass per record).  :class:`RedactingLogRecordExporter` does
  the same on copies in the export thread, for setups that prefer that;
* metrics: :class:`RedactingMetricExporter` rebuilds data-point and exemplar
  attributes and the resource;
* baggage: :func:`redact_attributes` for the processors that copy baggage.

Nothing here raises into the application: a span that cannot be rebuilt is
dropped, a log record that cannot be redacted loses its body and attributes,
and a metrics batch that cannot be redacted is not exported.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from otel_distro.redaction import REDACTED, RedactionReport, Redactor, get_redactor

__all__ = [
    "OWN_SCOPE_PREFIX",
    "REPORT_ATTRIBUTE",
    "RedactingLogRecordExporter",
    "RedactingLogRecordProcessor",
    "RedactingMetricExporter",
    "RedactingSpanExporter",
    "observe_redactions",
    "redact_attributes",
    "redact_span",
]

#: Attribute listing what was redacted on a span or log record ("rule:path").
REPORT_ATTRIBUTE = "otel_distro.redacted"
#: Log records from scopes starting with this were redacted by our bridge already.
OWN_SCOPE_PREFIX = "otel_distro"

_logger = logging.getLogger(__name__)
_errors_lock = threading.Lock()
_errors = 0


def _count_error(what: str) -> None:
    global _errors
    with _errors_lock:
        _errors += 1
        first = _errors == 1
    if first:  # once: an exporter logging per batch would flood
        _logger.warning("otel-distro: redaction failed for a %s; it was dropped or masked", what)


def _redactor(explicit: Redactor | None) -> Redactor:
    if explicit is not None:
        return explicit
    try:
        return get_redactor()
    except Exception:
        _count_error("configuration")
        return Redactor()


class _ResourceCache:
    """Redacted copies of resources (one per provider, so the cache stays tiny)."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[Resource, Resource]] = {}

    def get(self, resource: Resource, redactor: Redactor) -> Resource:
        cached = self._items.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1]
        report = RedactionReport()
        attributes = redactor.redact_mapping(resource.attributes, report=report)
        redacted = Resource(attributes, resource.schema_url) if report else resource
        if len(self._items) >= 8:
            self._items.clear()
        self._items[id(resource)] = (resource, redacted)
        return redacted


def redact_attributes(
    attributes: Mapping[str, Any] | None,
    redactor: Redactor | None = None,
    report: RedactionReport | None = None,
) -> dict[str, Any] | None:
    """A redacted copy of ``attributes`` (``None`` stays ``None``); never raises."""
    if attributes is None:
        return None
    try:
        return _redactor(redactor).redact_mapping(attributes, report=report)
    except Exception:
        _count_error("attribute set")
        return {str(key): REDACTED for key in attributes}


# --- spans ---------------------------------------------------------------------


class _RedactedEvent(Event):
    def __init__(
        self, name: str, attributes: dict[str, Any], timestamp: int | None, dropped: int
    ) -> None:
        super().__init__(name, attributes, timestamp)
        self._dropped = dropped

    @property
    def dropped_attributes(self) -> int:
        return self._dropped


class _RedactedLink(trace_api.Link):
    def __init__(
        self, context: trace_api.SpanContext, attributes: dict[str, Any], dropped: int
    ) -> None:
        super().__init__(context, attributes)
        self._dropped = dropped

    @property
    def dropped_attributes(self) -> int:
        return self._dropped


class _RedactedSpan(ReadableSpan):
    """A rebuilt span that keeps the original's dropped counts."""

    def __init__(self, dropped: tuple[int, int, int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._dropped_counts = dropped

    @property
    def dropped_attributes(self) -> int:
        return self._dropped_counts[0]

    @property
    def dropped_events(self) -> int:
        return self._dropped_counts[1]

    @property
    def dropped_links(self) -> int:
        return self._dropped_counts[2]


def redact_span(
    span: ReadableSpan, redactor: Redactor, resource: Resource | None = None
) -> ReadableSpan:
    """A new span with every text field and attribute redacted.

    ``resource`` is the already-redacted resource to use (else the span's).
    """
    report = RedactionReport()
    name = redactor.redact_text(span.name, report=report, path="name")
    attributes = redactor.redact_mapping(span.attributes, report=report)
    status = span.status
    if status.description:
        description = redactor.redact_text(status.description, report=report, path="status")
        if description != status.description:
            status = Status(status.status_code, description)
    events = [
        _RedactedEvent(
            redactor.redact_text(event.name, report=report, path=f"events[{i}]"),
            redactor.redact_mapping(event.attributes, report=report, path=f"events[{i}]"),
            event.timestamp,
            event.dropped_attributes,
        )
        for i, event in enumerate(span.events)
    ]
    links = [
        _RedactedLink(
            link.context,
            redactor.redact_mapping(link.attributes, report=report, path=f"links[{i}]"),
            link.dropped_attributes,
        )
        for i, link in enumerate(span.links)
    ]
    if report:
        attributes[REPORT_ATTRIBUTE] = report.entries
    return _RedactedSpan(
        (span.dropped_attributes, span.dropped_events, span.dropped_links),
        name=name,
        context=span.context,
        parent=span.parent,
        resource=resource if resource is not None else span.resource,
        attributes=attributes,
        events=events,
        links=links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingSpanExporter(SpanExporter):
    """Redacts each finished span, then delegates to ``exporter``.

    Use as ``BatchSpanProcessor(RedactingSpanExporter(exporter))`` so the work
    happens in the export thread.  Without ``redactor`` the process redactor
    (:func:`otel_distro.redaction.get_redactor`) is looked up per batch.
    """

    def __init__(self, exporter: SpanExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor
        self._resources = _ResourceCache()

    def __repr__(self) -> str:
        return f"RedactingSpanExporter({self._exporter!r})"

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        redactor = _redactor(self._redactor)
        redacted: list[ReadableSpan] = []
        for span in spans:
            try:
                resource = self._resources.get(span.resource, redactor)
                redacted.append(redact_span(span, redactor, resource))
            except Exception:
                _count_error("span")
        return self._exporter.export(redacted)

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


# --- logs ----------------------------------------------------------------------


class RedactingLogRecordProcessor(LogRecordProcessor):
    """Redacts body, attributes and resource of each record in ``on_emit``.

    Register it before the batch processor (which copies the record).  Records
    whose instrumentation scope starts with ``otel_distro`` are left alone: the
    structlog bridge already redacted them once.
    """

    #: On records of the distro's own scope ``on_emit`` only swaps in the redacted resource.
    skips_own_records = True

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor
        self._resources = _ResourceCache()

    def __repr__(self) -> str:
        return "RedactingLogRecordProcessor()"

    def own_records_resource(self, resource: Resource) -> Resource:
        """The resource ``on_emit`` gives a record of the distro's own scope."""
        return self._resources.get(resource, _redactor(self._redactor))

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        try:
            redactor = _redactor(self._redactor)
            if log_record.resource is not None:
                log_record.resource = self._resources.get(log_record.resource, redactor)
            scope = log_record.instrumentation_scope
            if scope is not None and scope.name.startswith(OWN_SCOPE_PREFIX):
                return
            _redact_record(record, redactor)
        except Exception:
            _count_error("log record")
            record.body = REDACTED
            record.attributes = {}

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class RedactingLogRecordExporter(LogRecordExporter):
    """Alternative to the processor: redacts copies of each record in the export thread.

    Same rules and the same ``otel_distro*`` skip, but the work leaves the
    emitting thread.  Use one of the two, not both.
    """

    def __init__(self, exporter: LogRecordExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor
        self._resources = _ResourceCache()

    def __repr__(self) -> str:
        return f"RedactingLogRecordExporter({self._exporter!r})"

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        redactor = _redactor(self._redactor)
        redacted: list[ReadableLogRecord] = []
        for item in batch:
            try:
                redacted.append(self._redact(item, redactor))
            except Exception:
                _count_error("log record")
        return self._exporter.export(redacted)

    def _redact(self, item: ReadableLogRecord, redactor: Redactor) -> ReadableLogRecord:
        resource = self._resources.get(item.resource, redactor)
        scope = item.instrumentation_scope
        if scope is not None and scope.name.startswith(OWN_SCOPE_PREFIX):
            return replace(item, resource=resource)
        record = copy.copy(item.log_record)
        _redact_record(record, redactor)
        return replace(item, log_record=record, resource=resource)

    def shutdown(self) -> None:
        self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _redact_record(record: Any, redactor: Redactor) -> None:
    """Redact body and attributes of an API ``LogRecord`` in place."""
    report = RedactionReport()
    body = record.body
    if isinstance(body, str):
        record.body = redactor.redact_text(body, report=report, path="body")
    elif body is not None:
        record.body = redactor.redact_value(body, report=report, path="body")
    if record.attributes or report:
        attributes = redactor.redact_mapping(record.attributes, report=report)
        if report:
            attributes[REPORT_ATTRIBUTE] = report.entries
        record.attributes = _like(record.attributes, attributes)


def _like(original: Any, attributes: dict[str, Any]) -> Any:
    """``attributes`` as BoundedAttributes with the original's limits and dropped count."""
    if not isinstance(original, BoundedAttributes):
        return attributes
    bounded = BoundedAttributes(
        maxlen=original.maxlen,
        attributes=attributes,
        immutable=False,
        max_value_len=original.max_value_len,
    )
    bounded.dropped += original.dropped
    return bounded


# --- metrics -------------------------------------------------------------------


class RedactingMetricExporter(MetricExporter):
    """Redacts data-point and exemplar attributes and the resource, then delegates."""

    def __init__(self, exporter: MetricExporter, redactor: Redactor | None = None) -> None:
        super().__init__(
            preferred_temporality=getattr(exporter, "_preferred_temporality", None),
            preferred_aggregation=getattr(exporter, "_preferred_aggregation", None),
        )
        self._exporter = exporter
        self._redactor = redactor
        self._resources = _ResourceCache()

    def __repr__(self) -> str:
        return f"RedactingMetricExporter({self._exporter!r})"

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            redacted = self._redact(metrics_data, _redactor(self._redactor))
        except Exception:
            _count_error("metrics batch")
            return MetricExportResult.FAILURE
        return self._exporter.export(redacted, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._exporter.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._exporter.shutdown(timeout_millis=timeout_millis, **kwargs)

    def _redact(self, data: MetricsData, redactor: Redactor) -> MetricsData:
        attrs = _point_redactor(redactor)

        def point(p: Any) -> Any:
            exemplars = [
                replace(ex, filtered_attributes=attrs(ex.filtered_attributes)) for ex in p.exemplars
            ]
            return replace(p, attributes=attrs(p.attributes), exemplars=exemplars)

        def metric(m: Any) -> Any:
            points: list[Any] = [point(p) for p in m.data.data_points]
            return replace(m, data=replace(m.data, data_points=points))

        return replace(
            data,
            resource_metrics=[
                replace(
                    rm,
                    resource=self._resources.get(rm.resource, redactor),
                    scope_metrics=[
                        replace(sm, metrics=[metric(m) for m in sm.metrics])
                        for sm in rm.scope_metrics
                    ],
                )
                for rm in data.resource_metrics
            ],
        )


def _point_redactor(
    redactor: Redactor,
) -> Callable[[Mapping[str, Any] | None], dict[str, Any] | None]:
    """Redacts attribute sets, once per distinct set within a batch."""
    seen: dict[frozenset[tuple[str, Any]], dict[str, Any]] = {}

    def redact(attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if attributes is None:
            return None
        try:
            key = frozenset(attributes.items())
        except TypeError:
            return redactor.redact_mapping(attributes)
        result = seen.get(key)
        if result is None:
            result = seen[key] = redactor.redact_mapping(attributes)
        return result

    return redact


# --- the count as a metric -------------------------------------------------------


def observe_redactions(meter: Meter, redactor: Redactor | None = None) -> None:
    """Create the ``otel_distro.redactions`` counter (by ``rule``) on ``meter``.

    ``pipeline_error`` counts spans dropped, log records masked and metric
    batches withheld because redaction itself failed.
    """

    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        counts = _redactor(redactor).counts()
        if _errors:
            counts["pipeline_error"] = _errors
        return [Observation(count, {"rule": rule}) for rule, count in sorted(counts.items())]

    meter.create_observable_counter(
        "otel_distro.redactions",
        callbacks=[callback],
        unit="{redaction}",
        description="Values or substrings replaced by redaction, by rule name.",
    )
