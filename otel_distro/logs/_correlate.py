"""Trace ids and the allow-listed request context (tenant, user) for log records."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import baggage
from opentelemetry.context import Context
from opentelemetry.trace import get_current_span

__all__ = ["ContextSource", "context_values", "current_ids", "set_context_source"]

ContextSource = Callable[[tuple[str, ...]], "dict[str, str]"]

_MAX_VALUE = 256


def current_ids(context: Context | None = None) -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex for the current (or given) context, or None."""
    span_context = get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def _from_baggage(keys: tuple[str, ...]) -> dict[str, str]:
    entries = baggage.get_all()
    if not entries:
        return {}
    return {key: str(entries[key]) for key in keys if key in entries}


def _default_source() -> ContextSource:
    try:
        from otel_distro.context import context_values as source
    except Exception:
        return _from_baggage
    return source


_source: ContextSource | None = None


def set_context_source(source: ContextSource | None) -> None:
    """Read request context with *source* (None: ``otel_distro.context``, else baggage)."""
    global _source
    _source = source


def context_values(keys: tuple[str, ...]) -> dict[str, str]:
    """Allow-listed request-context values (tenant.id, user.id, ...), capped; never raises."""
    global _source
    if not keys:
        return {}
    if _source is None:
        _source = _default_source()
    try:
        found = _source(keys)
    except Exception:
        return {}
    if not found:
        return {}
    return {key: str(value)[:_MAX_VALUE] for key, value in found.items()}
