"""Log records as events on their span (``OTEL_DISTRO_LOGS_AS_SPAN_EVENTS``).

A record written while a span is recording is also added to that span as one
``log`` event, so a trace view (Jaeger) shows the request's log lines in place.
This runs on the caller's thread, while the span is still open (the log worker
may reach the record only after the span has ended).  Every event is redacted
first (a copy of the record goes through the same redaction as the record
itself: nothing unredacted reaches the span) and bounded: at most
:data:`MAX_EVENTS_PER_SPAN` events per span (the rest are counted in the span
attribute ``otel_distro.log_events.dropped``), at most :data:`MAX_ATTRIBUTES`
record attributes per event, and every text cut to :data:`MAX_CHARS`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping

from opentelemetry.context import Context
from opentelemetry.trace import Span, get_current_span
from opentelemetry.util.types import AnyValue

from otel_distro._names import REPORT_ATTRIBUTE
from otel_distro._report import internal_error
from otel_distro.logging._redact import Redact
from otel_distro.logging._values import safe_str

__all__ = [
    "DROPPED_ATTRIBUTE",
    "EVENT_NAME",
    "MAX_ATTRIBUTES",
    "MAX_CHARS",
    "MAX_EVENTS_PER_SPAN",
    "SpanEvents",
]

EVENT_NAME = "log"
DROPPED_ATTRIBUTE = "otel_distro.log_events.dropped"
MAX_EVENTS_PER_SPAN = 64
MAX_ATTRIBUTES = 16
MAX_CHARS = 1024
_SKIPPED = frozenset(("trace_id", "span_id", "timestamp", "level", "logger", "event"))
_PRIMITIVE = (bool, int, float)


class SpanEvents:
    """Adds redacted, bounded ``log`` events to the recording span of a record's context."""

    def __init__(self, redact: Redact) -> None:
        self._redact = redact
        self._counts: weakref.WeakKeyDictionary[Span, int] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._busy = threading.local()  # an SDK warning logged by add_event: not again

    def add(
        self,
        context: Context | None,
        ts_ns: int,
        severity_text: str,
        name: str | None,
        event: AnyValue,
        attributes: Mapping[str, AnyValue],
    ) -> None:
        """Add one event for the record to its span, if that span is recording."""
        busy = self._busy
        if getattr(busy, "on", False):
            return
        busy.on = True
        try:
            span = get_current_span(context)
            if not span.is_recording() or not self._admit(span):
                return
            body, values, logger = self._redact(event, dict(attributes), name)
            event_attributes: dict[str, AnyValue] = {
                "log.severity": severity_text,
                "log.message": _text(body),
            }
            if logger:
                event_attributes["log.logger"] = _text(logger)
            kept = 0
            for key, value in values.items():
                if key in _SKIPPED or key == REPORT_ATTRIBUTE or key in event_attributes:
                    continue
                if kept >= MAX_ATTRIBUTES:
                    break
                event_attributes[_text(key)] = _value(value)
                kept += 1
            redacted = values.get(REPORT_ATTRIBUTE)
            if redacted and not isinstance(redacted, (int, float)):  # the list of entries
                event_attributes[REPORT_ATTRIBUTE] = [_text(e) for e in redacted][:MAX_ATTRIBUTES]
            span.add_event(EVENT_NAME, event_attributes, timestamp=ts_ns)
        except Exception:
            internal_error("logging.span_events")
        finally:
            busy.on = False

    def _admit(self, span: Span) -> bool:
        """Count the span's events; past the cap, count the drop on the span instead."""
        try:
            with self._lock:
                count = self._counts.get(span, 0) + 1
                self._counts[span] = count
        except TypeError:  # a span type without weak references: the SDK's own limit applies
            return True
        if count <= MAX_EVENTS_PER_SPAN:
            return True
        span.set_attribute(DROPPED_ATTRIBUTE, count - MAX_EVENTS_PER_SPAN)
        return False


def _text(value: object) -> str:
    return safe_str(value, MAX_CHARS)


def _value(value: object) -> bool | int | float | str:
    """An OTel attribute value: numbers and booleans as they are, anything else as text."""
    if isinstance(value, _PRIMITIVE):
        return value
    return _text(value)
