"""What every Sentry event goes through before it leaves: redaction, trace link, dedupe.

* Redaction: the whole (already serialised) event -- message, ``logentry`` and its
  params, exception values, frames and their local variables, breadcrumbs, request
  data, user context, extra -- goes through the distro's redaction engine.  An event
  that cannot be scrubbed is dropped and counted (:func:`dropped_events`).
* Trace: the OTel trace id and span id of the span current when the event was
  captured (or, for an exception logged after its request's span ended, of the span
  it escaped from, :mod:`otel_distro._exception_origin`) become the event's trace
  context and its ``trace_id``/``span_id`` tags, with ``tenant.id``/``user.id`` and a
  ``trace_url`` built from ``OTEL_DISTRO_TRACE_URL_TEMPLATE``.  They are added after
  redaction, so a trace id is never mistaken for a secret.
* One event per exception: an exception already sent (by the app's own
  ``logger.error(..., exc_info=True)`` before it re-raised, say) is not sent again
  when the server or a framework integration reports it.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from opentelemetry import baggage
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext, get_current_span

from otel_distro._exception_origin import _exception_of, _find
from otel_distro._report import internal_error
from otel_distro._state import slot
from otel_distro.context import TENANT_KEY, USER_KEY

if TYPE_CHECKING:
    from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint

    from otel_distro.redaction import Redactor

_T = TypeVar("_T")

__all__ = ["before_breadcrumb", "before_send", "before_send_transaction", "dropped_events"]

_SENT = "_otel_distro_sentry_sent"
_dropped = slot("errors.sentry_dropped", lambda: 0)
_lock = threading.Lock()
_template = slot("errors.trace_url_template", lambda: "")


def set_trace_url_template(template: str) -> None:
    """The link template put on events (``{trace_id}`` is replaced)."""
    _template.value = template


def dropped_events() -> int:
    """How many Sentry events (or breadcrumbs) were dropped because scrubbing failed."""
    return _dropped.value


def _count_drop(where: str) -> None:
    with _lock:
        _dropped.value += 1
    internal_error(where)


def _redact(value: _T) -> _T:
    """``value`` redacted; redaction keeps its shape (mappings stay mappings)."""
    from otel_distro.redaction import get_redactor

    redactor = get_redactor()
    tree: object = value
    if isinstance(value, dict) and isinstance(value.get("logentry"), dict):
        tree = {**value, "logentry": _logentry(value["logentry"], redactor)}
    return cast(_T, redactor.redact_value(_pairs(tree, redactor, 0)))


def _logentry(entry: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A log call's ``params`` redacted in the context of their message.

    ``logger.error("token=%s", secret)`` sends ``params: [secret]``: alone, the value
    says nothing; formatted into its message it follows ``token=``.  A param whose text
    does not survive redaction of the formatted message is replaced.
    """
    from otel_distro.redaction import REDACTED

    params = entry.get("params")
    message = entry.get("message")
    if not params or not isinstance(message, str):
        return entry
    try:
        formatted = message % (tuple(params) if isinstance(params, list) else params)
    except Exception:  # a message that does not format: judge the params side by side
        formatted = f"{message} {params}"
    kept = redactor.redact_text(str(formatted))

    def judged(param: object) -> object:
        text = str(param)
        return param if not text or text in kept else REDACTED

    if isinstance(params, list):
        return {**entry, "params": [judged(param) for param in params]}
    if isinstance(params, dict):
        return {**entry, "params": {key: judged(param) for key, param in params.items()}}
    return entry


_MAX_DEPTH = 32


def _pairs(value: object, redactor: Redactor, depth: int) -> object:
    """Name/value pair lists (an ASGI scope's ``headers`` in a frame's locals, serialised
    as ``["b'x-api-key'", "b'...'"]``) redacted by their names before the general pass."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: _pairs(item, redactor, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if value and all(_is_pair(item) for item in value):
            return [[name, redactor.redact_value(item, key=_name(name))] for name, item in value]
        return [_pairs(item, redactor, depth + 1) for item in value]
    return value


def _is_pair(item: object) -> bool:
    return isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)


def _name(text: str) -> str:
    """``b'x-api-key'`` or ``'x-api-key'`` (a serialised repr) -> ``x-api-key``."""
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:
        return text[2:-1]
    if len(text) > 1 and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1]
    return text


def before_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    """Sentry ``before_breadcrumb``: the breadcrumb redacted, or None when that fails."""
    try:
        return _redact(crumb)
    except Exception:
        _count_drop("errors.sentry_breadcrumb")
        return None


def before_send_transaction(event: Event, hint: Hint) -> Event | None:
    """Sentry ``before_send_transaction``: the transaction (OTel spans) redacted, or dropped."""
    try:
        return _redact(event)
    except Exception:
        _count_drop("errors.sentry_transaction")
        return None


def before_send(event: Event, hint: Hint) -> Event | None:
    """Sentry ``before_send``: None for an exception already sent or an unscrubbable event."""
    try:
        exc = _exception_of((hint or {}).get("exc_info"))
        if exc is not None and vars(exc).get(_SENT):
            return None
        context = _origin_context(exc)
        scrubbed = _redact(event)
        if not isinstance(scrubbed, dict):
            raise TypeError("a scrubbed event is not a mapping")
        _link(cast("dict[str, Any]", scrubbed), context)  # a plain dict: checked above
        if exc is not None:
            object.__setattr__(exc, _SENT, True)
        return scrubbed
    except Exception:
        _count_drop("errors.sentry_scrub")
        return None  # fail closed: an event we cannot scrub is not sent


def _origin_context(exc: BaseException | None) -> Context | None:
    """The current context when a span is current, else the one remembered on ``exc``."""
    if get_current_span().get_span_context().is_valid:
        return None
    return _find(exc) if exc is not None else None


def _link(event: MutableMapping[str, Any], context: Context | None) -> None:
    span_context = get_span_context_of(context)
    tags = event.get("tags")
    if not isinstance(tags, dict):
        tags = event["tags"] = {}
    for key, value in _tenant(context).items():
        tags[key] = value
    if span_context is None:
        return
    trace_id = format(span_context.trace_id, "032x")
    span_id = format(span_context.span_id, "016x")
    tags["trace_id"] = trace_id
    tags["span_id"] = span_id
    contexts = event.get("contexts")
    if not isinstance(contexts, dict):
        contexts = event["contexts"] = {}
    trace = contexts.get("trace")
    trace = dict(trace) if isinstance(trace, dict) else {}
    trace.pop("parent_span_id", None)
    trace.update(trace_id=trace_id, span_id=span_id)
    contexts["trace"] = trace
    template = _template.value
    if template:
        url = template.replace("{trace_id}", trace_id)
        tags["trace_url"] = url
        contexts["otel"] = {"trace_url": url, "trace_id": trace_id, "span_id": span_id}


def get_span_context_of(context: Context | None) -> SpanContext | None:
    """The valid span context in ``context`` (None: the current one), else None."""
    span_context = get_current_span(context).get_span_context() if context is not None else None
    if span_context is None or not span_context.is_valid:
        span_context = get_current_span().get_span_context()
    return span_context if span_context.is_valid else None


def _tenant(context: Context | None) -> dict[str, str]:
    from otel_distro.context import context_values
    from otel_distro.redaction import get_redactor

    found = context_values((TENANT_KEY, USER_KEY))
    if context is not None:
        entries = baggage.get_all(context)
        for key in (TENANT_KEY, USER_KEY):
            if key in entries and key not in found:
                found[key] = str(entries[key])
    redactor = get_redactor()
    return {key: redactor.redact_text(value[:200]) for key, value in found.items()}
