"""A rejected baggage signature becomes a security event of the entry span.

Inbound baggage is extracted before the server (or consumer) span exists, so the
propagator records the reason in the extracted context (:func:`with_violation`)
and :class:`SignatureViolationSpanProcessor` records the event when the first
span under that context starts: through :mod:`otel_distro.security` (span event
``security.violation``, a WARNING ``security_violation`` record and the
``otel_distro.security.violations`` count), of type
``baggage_signature_<reason>``, with ``violation=baggage_signature_<reason>``.
Never a key, a value or the signature.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context, create_key, get_current, get_value, set_value
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import Span

from otel_distro._report import internal_error

__all__ = [
    "EVENT_NAME",
    "SignatureViolationSpanProcessor",
    "security_violation",
    "with_violation",
]

EVENT_NAME = "security.violation"
_PENDING = create_key("otel_distro.baggage_signature_violation")


class _Pending:
    __slots__ = ("claimed", "reason")

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.claimed = False


def security_violation(reason: str, span: Span | None = None) -> None:
    """Record a rejected baggage signature (``reason`` is one of ``REASONS``) on ``span``.

    The one place a signature violation is emitted, so that it can also reach the
    security-event pipeline; ``span`` defaults to the current span.
    """
    from otel_distro.security._events import record_violation

    target = trace.get_current_span() if span is None else span
    if not target.is_recording():
        return
    violation = f"baggage_signature_{reason}"
    with trace.use_span(target, end_on_exit=False):  # the event, record and ids are its
        record_violation("baggage", violation, fields={"violation": violation}, explicit=False)


def with_violation(context: Context, reason: str) -> Context:
    """``context`` remembering a violation for the next span started under it."""
    return set_value(_PENDING, _Pending(reason), context)


class SignatureViolationSpanProcessor(SpanProcessor):
    """Adds a pending ``security.violation`` event to the first span of its context."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            context = get_current() if parent_context is None else parent_context
            pending = get_value(_PENDING, context)
            if isinstance(pending, _Pending) and not pending.claimed:
                pending.claimed = True
                security_violation(pending.reason, span)
        except Exception:  # never break span creation
            internal_error("signature_events.on_start")

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
