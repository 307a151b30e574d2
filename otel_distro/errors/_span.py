"""An exception on a span: one ``exception`` event per exception and span, bounded in length.

Two paths record exceptions on spans:

* a log call with ``exc_info`` (standard library or structlog) inside a span adds
  the event to the current span (:func:`record_logged`);
* an exception escaping the app inside the server span (:func:`record_escaped`, from
  :mod:`otel_distro.asgi`) adds the event and sets status ERROR.  The contrib ASGI
  middleware's ``use_span`` would record the same exception again, unbounded; the
  server span's ``record_exception`` is therefore replaced, when the request starts,
  by one adding the same bounded event once (:func:`guard_server_span`).

An exception remembers the spans it was recorded on, so logging it twice (the app's
handler, then a middleware) still leaves one event.  The event's ``exception.message``
and ``exception.stacktrace`` are cut to ``OTEL_DISTRO_REDACT_MAX_SCAN`` characters
(innermost frames kept); the redacting span exporter redacts them with the rest of
the span.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import Span, Status, StatusCode, get_current_span

from otel_distro._report import internal_error

__all__ = ["guard_server_span", "record_escaped", "record_logged"]

_RECORDED = "_otel_distro_span_events"
_GUARDED = "_otel_distro_guarded"
_MAX_SPANS = 16  # span ids remembered per exception


def _limit() -> int:
    from otel_distro.config import get_settings

    return int(get_settings().redact_max_scan)


def _attributes(exc: BaseException, limit: int) -> dict[str, str] | None:
    from otel_distro.logging._values import exception_attributes

    return exception_attributes(exc, limit)


def _claim(exc: BaseException, span: Span) -> bool:
    """True the first time ``exc`` is recorded on ``span`` (and remembers it)."""
    span_id = span.get_span_context().span_id
    recorded = vars(exc).get(_RECORDED)
    if not isinstance(recorded, tuple):
        recorded = ()
    if span_id in recorded:
        return False
    object.__setattr__(exc, _RECORDED, (*recorded, span_id)[-_MAX_SPANS:])
    return True


def _add_event(
    span: Span,
    exc: BaseException,
    attributes: dict[str, str] | None,
    extra: Any = None,
    timestamp: int | None = None,
) -> None:
    if attributes is None:
        attributes = _attributes(exc, _limit())
    if attributes and _claim(exc, span):
        merged: dict[str, Any] = dict(attributes)
        if isinstance(extra, dict):  # a caller's own attributes (the bounded ones win)
            merged = {**extra, **attributes}
        span.add_event("exception", attributes=merged, timestamp=timestamp)


def record_logged(exc: BaseException | None, attributes: dict[str, str] | None) -> None:
    """The log bridge saw ``exc`` in a record's ``exc_info``: one event on the current span.

    ``attributes``: the record's already computed ``exception.*`` values.  Never raises.
    """
    try:
        if exc is None:
            return
        span = get_current_span()
        if span.is_recording():
            _add_event(span, exc, attributes)
    except Exception:
        internal_error("errors.span_event")


def record_escaped(exc: BaseException) -> None:
    """``exc`` leaves the app while the server span is current: status ERROR, one event."""
    try:
        if not isinstance(exc, Exception):  # cancellation, exit: not an error of the request
            return
        span = get_current_span()
        if not span.is_recording():
            return
        attributes = _attributes(exc, _limit())
        _add_event(span, exc, attributes)
        kind = attributes["exception.type"] if attributes else type(exc).__qualname__
        message = attributes.get("exception.message", "") if attributes else ""
        span.set_status(Status(StatusCode.ERROR, f"{kind}: {message}" if message else kind))
    except Exception:
        internal_error("errors.span_escaped")


def guard_server_span(span: Any) -> None:
    """Make ``span.record_exception`` record one bounded event per exception (never raises).

    Called by the server request hook: the contrib middlewares record an escaping
    exception themselves (FastAPI's inner exception middleware, ``use_span``), each
    with the whole stack trace; through this guard the first records it, bounded,
    and the others find it recorded.
    """
    try:
        if not span.is_recording() or getattr(span.record_exception, _GUARDED, False):
            return

        def record_exception(
            exception: BaseException,
            attributes: Any = None,
            timestamp: int | None = None,
            escaped: bool = False,
        ) -> None:
            try:
                if span.is_recording():
                    _add_event(span, exception, None, attributes, timestamp)
            except Exception:
                internal_error("errors.span_guard")

        setattr(record_exception, _GUARDED, True)
        span.record_exception = record_exception
    except Exception:  # a span type that cannot take it: recorded as the SDK does
        internal_error("errors.span_guard")
