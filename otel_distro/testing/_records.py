"""The small typed records a capture returns: spans, log records, metric points.

Each record is built from what an exporter received (after the distro's redaction),
so a value redacted in the pipeline is redacted here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.util.types import AnyValue

__all__ = ["LogRecord", "MetricPoint", "SpanEvent", "SpanRecord", "Trace", "level_range"]

# OpenTelemetry severity numbers by level name (each level spans four numbers).
_LEVELS: dict[str, tuple[int, int]] = {
    "trace": (1, 4),
    "debug": (5, 8),
    "info": (9, 12),
    "warn": (13, 16),
    "warning": (13, 16),
    "error": (17, 20),
    "fatal": (21, 24),
    "critical": (21, 24),
}


def level_range(level: str) -> tuple[int, int]:
    """The severity numbers of a level name (``"warning"``, ``"WARN"``, ``"error"``...)."""
    try:
        return _LEVELS[level.strip().lower()]
    except KeyError:
        allowed = ", ".join(sorted(_LEVELS))
        raise ValueError(f"unknown log level {level!r}; use one of: {allowed}") from None


def _plain(attributes: Mapping[str, AnyValue] | None) -> dict[str, Any]:
    """Attributes as a dict whose sequences are lists (values are ``Any``: an application's
    tests compare them with literals of their own types)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in (attributes or {}).items()}


def hex_id(value: int, width: int) -> str | None:
    """An id as lowercase hex (``None`` for the invalid id 0)."""
    return format(value, f"0{width}x") if value else None


@dataclass(frozen=True)
class SpanEvent:
    """One event of a span: its name and attributes."""

    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpanRecord:
    """One exported span: ids as lowercase hex, kind and status as names (``"SERVER"``)."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    attributes: dict[str, Any]
    events: tuple[SpanEvent, ...]
    status: str
    status_description: str | None
    resource: dict[str, Any]

    @classmethod
    def of(cls, span: ReadableSpan) -> SpanRecord:
        """The record of an SDK ``ReadableSpan``."""
        context = span.context
        parent = span.parent
        return cls(
            name=span.name,
            kind=span.kind.name,
            trace_id=hex_id(context.trace_id, 32) or "",
            span_id=hex_id(context.span_id, 16) or "",
            parent_span_id=hex_id(parent.span_id, 16) if parent is not None else None,
            attributes=_plain(span.attributes),
            events=tuple(SpanEvent(e.name, _plain(e.attributes)) for e in span.events),
            status=span.status.status_code.name,
            status_description=span.status.description,
            resource=_plain(span.resource.attributes if span.resource else None),
        )

    def event(self, name: str) -> list[SpanEvent]:
        """The events called ``name``."""
        return [e for e in self.events if e.name == name]


@dataclass(frozen=True)
class LogRecord:
    """One exported log record; ``event`` is the structlog event (the record's body)."""

    event: Any
    level: str
    severity_number: int
    attributes: dict[str, Any]
    trace_id: str | None
    span_id: str | None
    logger: str | None

    @property
    def body(self) -> Any:
        """The record's body (the same value as ``event``)."""
        return self.event

    @classmethod
    def of(cls, readable: ReadableLogRecord) -> LogRecord:
        """The record of an SDK ``ReadableLogRecord``."""
        record = readable.log_record
        severity = record.severity_number
        scope = getattr(readable, "instrumentation_scope", None)
        return cls(
            event=record.body,
            level=record.severity_text or "",
            severity_number=int(severity.value) if severity is not None else 0,
            attributes=_plain(record.attributes),
            trace_id=hex_id(record.trace_id or 0, 32),
            span_id=hex_id(record.span_id or 0, 16),
            logger=scope.name if scope is not None else None,
        )


@dataclass(frozen=True)
class MetricPoint:
    """One attribute set of a metric: a counter's total, a gauge's last value, or a
    histogram's sum (``value``) and ``count``."""

    attributes: dict[str, Any]
    value: float
    count: int | None = None


@dataclass(frozen=True)
class Trace:
    """Everything captured for one trace id."""

    trace_id: str
    spans: list[SpanRecord]
    logs: list[LogRecord]

    def root(self) -> SpanRecord | None:
        """The span without a parent in this trace (``None`` if none was captured)."""
        ids = {s.span_id for s in self.spans}
        roots = [s for s in self.spans if s.parent_span_id is None or s.parent_span_id not in ids]
        return roots[0] if roots else None
