"""Traces as the CLI shows them: spans in tree order, each with its events and log records.

Everything in here came from telemetry, so every string is untrusted: the renderers
escape it (:func:`printable` for terminals, ``html.escape`` for HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LogView", "SpanView", "TraceView", "build_trace", "printable"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int = 200) -> str:
    """``text`` safe for a terminal: control and bidi characters as ``?``, cut at ``limit``."""
    value = _CONTROL.sub("?", str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class LogView:
    """One log record (or span event) under a span."""

    time_ns: int
    severity: str
    body: str
    attributes: dict[str, Any] = field(default_factory=dict)


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
    for span_id, log in logs:
        owner = by_id.get(span_id)
        if owner is not None:
            owner.logs.append(log)
    for span in spans:
        span.logs.sort(key=lambda log: log.time_ns)
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
