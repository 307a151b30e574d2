"""Redacting exporter wrappers: each signal is rebuilt redacted in the export thread.

The copies, never the originals, are handed to the real exporter.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    DataPointT,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from otel_distro._names import OWN_SCOPE_PREFIX, REPORT_ATTRIBUTE
from otel_distro._signal_redaction import (
    ResourceCache,
    count_error,
    redact_log_record,
    redactor_or_default,
)
from otel_distro.exporters._slices import sliced
from otel_distro.redaction import RedactionReport, Redactor

__all__ = [
    "RedactingLogRecordExporter",
    "RedactingMetricExporter",
    "RedactingSpanExporter",
    "redact_span",
]


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


_SDK_ATTRIBUTES = ReadableSpan.attributes


def _plain(attributes: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The dict inside the SDK's ``BoundedAttributes`` (same items, much cheaper to walk)."""
    return attributes._dict if type(attributes) is BoundedAttributes else attributes


def _span_attributes(span: ReadableSpan) -> Mapping[str, Any] | None:
    """A span's attributes without the read-only proxy the SDK's property wraps them in."""
    if type(span).attributes is _SDK_ATTRIBUTES:
        return _plain(span._attributes)
    return span.attributes


def redact_span(
    span: ReadableSpan, redactor: Redactor, resource: Resource | None = None
) -> ReadableSpan:
    """A new span with every text field and attribute redacted.

    ``resource`` is the already-redacted resource to use (else the span's).
    """
    report = RedactionReport()
    name = redactor.redact_text(span.name, report=report, path="name")
    attributes = redactor.redact_mapping(_span_attributes(span), report=report)
    status = span.status
    if status.description:
        description = redactor.redact_text(status.description, report=report, path="status")
        if description != status.description:
            status = Status(status.status_code, description)
    events = [
        _RedactedEvent(
            redactor.redact_text(event.name, report=report, path=f"events[{i}]"),
            redactor.redact_mapping(_plain(event.attributes), report=report, path=f"events[{i}]"),
            event.timestamp,
            event.dropped_attributes,
        )
        for i, event in enumerate(span.events)
    ]
    links = [
        _RedactedLink(
            link.context,
            redactor.redact_mapping(_plain(link.attributes), report=report, path=f"links[{i}]"),
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
    happens in the export thread, in slices that let request threads run between
    them.  Without ``redactor`` the process redactor
    (:func:`otel_distro.redaction.get_redactor`) is looked up per batch.
    """

    def __init__(self, exporter: SpanExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor
        self._resources = ResourceCache()

    def __repr__(self) -> str:
        return f"RedactingSpanExporter({self._exporter!r})"

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        redactor = redactor_or_default(self._redactor)
        redacted: list[ReadableSpan] = []
        for span in sliced(spans):  # other threads get the GIL between slices
            try:
                resource = self._resources.get(span.resource, redactor)
                redacted.append(redact_span(span, redactor, resource))
            except Exception:
                count_error("span")
        return self._exporter.export(redacted)

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class RedactingLogRecordExporter(LogRecordExporter):
    """Alternative to the processor: redacts copies of each record in the export thread.

    Same rules and the same ``otel_distro*`` skip, but the work leaves the
    emitting thread.  Use one of the two, not both.
    """

    def __init__(self, exporter: LogRecordExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor
        self._resources = ResourceCache()

    def __repr__(self) -> str:
        return f"RedactingLogRecordExporter({self._exporter!r})"

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        redactor = redactor_or_default(self._redactor)
        redacted: list[ReadableLogRecord] = []
        for item in sliced(batch):  # other threads get the GIL between slices
            try:
                redacted.append(self._redact(item, redactor))
            except Exception:
                count_error("log_record")
        return self._exporter.export(redacted)

    def _redact(self, item: ReadableLogRecord, redactor: Redactor) -> ReadableLogRecord:
        resource = self._resources.get(item.resource, redactor)
        scope = item.instrumentation_scope
        if scope is not None and scope.name.startswith(OWN_SCOPE_PREFIX):
            return replace(item, resource=resource)
        record = copy.copy(item.log_record)
        redact_log_record(record, redactor)
        return replace(item, log_record=record, resource=resource)

    def shutdown(self) -> None:
        self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class RedactingMetricExporter(MetricExporter):
    """Redacts data-point and exemplar attributes and the resource, then delegates."""

    def __init__(self, exporter: MetricExporter, redactor: Redactor | None = None) -> None:
        super().__init__(
            preferred_temporality=getattr(exporter, "_preferred_temporality", None),
            preferred_aggregation=getattr(exporter, "_preferred_aggregation", None),
        )
        self._exporter = exporter
        self._redactor = redactor
        self._resources = ResourceCache()

    def __repr__(self) -> str:
        return f"RedactingMetricExporter({self._exporter!r})"

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            redacted = self._redact(metrics_data, redactor_or_default(self._redactor))
        except Exception:
            count_error("metrics_batch")
            return MetricExportResult.FAILURE
        return self._exporter.export(redacted, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._exporter.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._exporter.shutdown(timeout_millis=timeout_millis, **kwargs)

    def _redact(self, data: MetricsData, redactor: Redactor) -> MetricsData:
        attrs = _point_redactor(redactor)

        def point(p: DataPointT) -> DataPointT:
            exemplars = [
                replace(ex, filtered_attributes=attrs(ex.filtered_attributes)) for ex in p.exemplars
            ]
            return replace(p, attributes=attrs(p.attributes), exemplars=exemplars)

        def metric(m: Metric) -> Metric:
            points = [point(p) for p in m.data.data_points]
            # each point keeps its own kind; mypy reads replace() over the union of data
            # classes as accepting only what every member accepts
            return replace(m, data=replace(m.data, data_points=points))  # type: ignore[arg-type]

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
