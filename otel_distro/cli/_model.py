"""Traces as the CLI shows them: spans in tree order, each with its events and log records.

Everything in here came from telemetry, so every string is untrusted: the renderers
escape it (:func:`printable` for terminals, ``html.escape`` for HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LOG_EVENT", "LogView", "SpanView", "TraceView", "build_trace", "printable"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int = 200) -> str:
    """``text`` safe for a terminal: control and bidi characters as ``?``, cut at ``limit``."""
    value = _CONTROL.sub("?", str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"


KEY_CHARS = 200
LOG_EVENT = "log"  # the span event a log record is also written as (logs as span events)
_LOG_EVENT_KEYS = ("log.severity", "log.message", "log.logger")


@dataclass
class LogView:
    """One log record (or span event) under a span.

    ``source`` says where it came from: ``"record"`` (the logs signal), ``"event"`` (a span
    event) or ``"record+event"`` (a log record that its span also carries as a ``log``
    event, shown once).
    """

    time_ns: int
    severity: str
    body: str
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str = "record"


@dataclass
class SpanView:
    """One span, with what happened inside it."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    service: str
    start_ns: int
    end_ns: int
    status: str = "UNSET"
    status_message: str = ""
    kind: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    logs: list[LogView] = field(default_factory=list)
    depth: int = 0

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    @property
    def tenant(self) -> str | None:
        value = self.attributes.get("tenant.id")
        return None if value is None else str(value)


@dataclass
class TraceView:
    """A trace's spans in tree order (parents before children, siblings by start time)."""

    trace_id: str
    spans: list[SpanView]

    @property
    def start_ns(self) -> int:
        return min((s.start_ns for s in self.spans), default=0)

    @property
    def end_ns(self) -> int:
        return max((s.end_ns for s in self.spans), default=0)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    @property
    def root(self) -> SpanView | None:
        return self.spans[0] if self.spans else None

    @property
    def status(self) -> str:
        return "ERROR" if any(s.status == "ERROR" for s in self.spans) else "OK"

    @property
    def tenants(self) -> list[str]:
        return sorted({t for s in self.spans if (t := s.tenant)})

    @property
    def services(self) -> list[str]:
        return sorted({s.service for s in self.spans})


def build_trace(trace_id: str, spans: list[SpanView], logs: list[tuple[str, LogView]]) -> TraceView:
    """Order ``spans`` as a tree and attach each ``(span_id, log)`` to its span.

    Spans whose parent is missing (not exported, sampled away) become roots; a
    parent loop cannot hang the walk (each span is placed once).
    """
    by_id = {span.span_id: span for span in spans}
    records: dict[str, list[LogView]] = {}
    for span_id, log in logs:
        if span_id in by_id:
            records.setdefault(span_id, []).append(log)
    for span in spans:
        span.logs = _merge_logs(span.logs, records.get(span.span_id, []))
    children: dict[str, list[SpanView]] = {}
    roots: list[SpanView] = []
    for span in spans:
        if span.parent_id and span.parent_id in by_id and span.parent_id != span.span_id:
            children.setdefault(span.parent_id, []).append(span)
        else:
            roots.append(span)
    ordered: list[SpanView] = []
    placed: set[str] = set()
    stack = [(root, 0) for root in sorted(roots, key=lambda s: s.start_ns, reverse=True)]
    while stack:
        span, depth = stack.pop()
        if span.span_id in placed:
            continue
        placed.add(span.span_id)
        span.depth = depth
        ordered.append(span)
        kids = sorted(children.get(span.span_id, []), key=lambda s: s.start_ns, reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    for span in spans:  # members of a parent loop have no root: show them flat
        if span.span_id not in placed:
            placed.add(span.span_id)
            ordered.append(span)
    return TraceView(trace_id=trace_id, spans=ordered)


def _log_key(time_ns: int, message: object) -> tuple[int, str]:
    """What a record and its ``log`` event share: the time and the message's start (the
    event's copy of a long message is cut)."""
    return time_ns, str(message)[:KEY_CHARS]


def _merge_logs(events: list[LogView], records: list[LogView]) -> list[LogView]:
    """A span's events and log records in time order, each log line once.

    With logs as span events a record is exported twice: as a log record and as a
    ``log`` event of its span.  The two are the same line when they share the span
    (both are the span's), the timestamp and the message: the record is kept (it has
    every attribute), marked ``record+event``, and the event dropped.  Two identical
    log calls are two records and two events, so both lines stay.  A ``log`` event
    with no record (Jaeger holds only the span) is shown as the log line it carries.
    """
    unpaired: dict[tuple[int, str], int] = {}
    for event in events:
        if event.body == LOG_EVENT and "log.message" in event.attributes:
            key = _log_key(event.time_ns, event.attributes["log.message"])
            unpaired[key] = unpaired.get(key, 0) + 1
    merged: list[LogView] = []
    for record in records:
        key = _log_key(record.time_ns, record.body)
        if unpaired.get(key, 0) > 0:
            unpaired[key] -= 1
            record.source = "record+event"
        merged.append(record)
    for event in events:
        if event.body != LOG_EVENT or "log.message" not in event.attributes:
            merged.append(event)
            continue
        key = _log_key(event.time_ns, event.attributes["log.message"])
        if unpaired.get(key, 0) <= 0:
            continue  # its record is shown
        unpaired[key] -= 1
        merged.append(_event_as_log(event))
    merged.sort(key=lambda log: log.time_ns)
    return merged


def _event_as_log(event: LogView) -> LogView:
    """A ``log`` span event shown as the log line it carries."""
    attributes = {k: v for k, v in event.attributes.items() if k not in _LOG_EVENT_KEYS}
    return LogView(
        time_ns=event.time_ns,
        severity=str(event.attributes.get("log.severity") or "LOG").upper(),
        body=str(event.attributes.get("log.message", "")),
        attributes=attributes,
        source="event",
    )
