"""Trace ids and the allow-listed request context (tenant, user) of a log event.

The caller's thread only takes cheap snapshots (the OTel ``Context`` and the
request state of :mod:`otel_distro.context`); the worker reads ids and values
from them later.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import baggage
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext

from otel_distro._report import internal_error

__all__ = ["context_values", "hex_ids", "request_snapshot"]

_MAX_VALUE = 256
_last: tuple[int, int, tuple[str, str]] = (0, 0, ("", ""))  # ids and their hex form


def hex_ids(span_context: SpanContext) -> tuple[str, str]:
    """``(trace_id, span_id)`` of a valid span context in hex (the last pair is cached)."""
    global _last
    trace_id, span_id = span_context.trace_id, span_context.span_id
    last = _last  # one tuple, read once: safe when several threads log
    if last[0] == trace_id and last[1] == span_id:
        return last[2]
    ids = format(trace_id, "032x"), format(span_id, "016x")
    _last = (trace_id, span_id, ids)
    return ids


def _load_request_source() -> Callable[[], object]:
    try:
        from otel_distro.context import current_request
    except Exception:
        internal_error("logging.request_source")
        return lambda: None
    return current_request


_current_request: Callable[[], object] | None = None


def request_snapshot() -> dict[str, str] | None:
    """The current request's context values (tenant set after auth), or None.

    The request state replaces its values dict on every change, so the dict
    itself is a stable snapshot.
    """
    global _current_request
    if _current_request is None:
        _current_request = _load_request_source()
    try:
        state = _current_request()
        values = getattr(state, "values", None)
        return values if values else None
    except Exception:
        internal_error("logging.request_snapshot")
        return None


def context_values(
    keys: tuple[str, ...], context: Context | None, request: dict[str, str] | None
) -> dict[str, str]:
    """Allow-listed values: baggage in *context*, overridden by the request snapshot."""
    found: dict[str, str] = {}
    try:
        entries = baggage.get_all(context)
    except Exception:  # a context object the application or a library built oddly
        entries = {}
    for key in keys:
        value: object = request.get(key) if request else None
        if value is None:
            value = entries.get(key)
        if value is not None:
            found[key] = str(value)[:_MAX_VALUE]
    return found
