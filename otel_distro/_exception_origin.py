"""The request an exception escaped from, remembered on the exception itself.

The ASGI middleware ends and detaches its server span before the server logs the
exception that escaped the app (uvicorn's "Exception in ASGI application").
:func:`remember` runs while the span is still current and stores, on the
exception, a small OTel ``Context``: the span's ids (as a non-recording span) and
the request's context values as baggage.  The log bridge asks :func:`log_context`
for it when a record's ``exc_info`` carries such an exception and no span is
current.
"""

from __future__ import annotations

import sys

from opentelemetry import baggage
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, get_current_span, set_span_in_context

from otel_distro._report import internal_error
from otel_distro.context import current_request

__all__ = ["log_context", "remember"]

_MARK = "_otel_distro_origin"
_MAX_LINKED = 32  # exceptions visited through causes, contexts and groups


def remember(exc: BaseException) -> None:
    """Store the current span and request context on ``exc``; never raises."""
    try:
        span_context = get_current_span().get_span_context()
        if not span_context.is_valid:
            return
        context = set_span_in_context(NonRecordingSpan(span_context), Context())
        values: dict[str, object] = dict(baggage.get_all())
        state = current_request()
        if state is not None:
            values.update(state.values)
        for key, value in values.items():
            context = baggage.set_baggage(key, value, context)
        # object.__setattr__: an exception class's own __setattr__ is not ours to call.
        object.__setattr__(exc, _MARK, context)
    except Exception:  # never changes the exception that propagates
        internal_error("exception_origin.remember")


def log_context(exc_info: object) -> Context | None:
    """The remembered context for a log call's ``exc_info``, when no span is current.

    The exception, then the exceptions it wraps (``__cause__``, ``__context__``,
    group members) are searched; the first remembered context wins.
    """
    try:
        exc = _exception_of(exc_info)
        if exc is None or get_current_span().get_span_context().is_valid:
            return None
        return _find(exc)
    except Exception:
        internal_error("exception_origin.log_context")
        return None


def _exception_of(exc_info: object) -> BaseException | None:
    if exc_info is True:
        return sys.exc_info()[1]
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        value = exc_info[1]
        return value if isinstance(value, BaseException) else None
    return None


def _find(exc: BaseException) -> Context | None:
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_LINKED:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        found = vars(current).get(_MARK)
        if isinstance(found, Context):
            return found
        pending.extend(_linked(current))
    return None


def _linked(exc: BaseException) -> list[BaseException]:
    members = getattr(exc, "exceptions", ())  # an exception group's members
    linked = [exc.__cause__, exc.__context__, *(members if isinstance(members, tuple) else ())]
    return [each for each in linked if isinstance(each, BaseException)]
