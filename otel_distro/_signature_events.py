"""A rejected baggage signature becomes a security event of the entry span.

Inbound baggage is extracted before the server (or consumer) span exists, so the
propagator records the reason in the extracted context (:func:`with_violation`)
and :class:`SignatureViolationSpanProcessor` records the event when the first
span under that context starts: through :mod:`otel_distro.security` (span event
``security.violation``, a WARNING ``security_violation`` record and the
``otel_distro.security.violations`` count), of type
``baggage_signature_<reason>``, with ``violation=baggage_signature_<reason>``.
Never a key, a value or the signature.

When the carrier was an ASGI scope, the context keeps it, so the event knows the
request's method, path, user agent and client address (and feeds the abuse
detector) like any other security event, and a server span gets
``otel_distro.security.violation``.  A request whose span is not sampled (no span
processor sees it) is claimed by the distro's ASGI hook (:func:`claim_for_request`):
its record and count are still emitted.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context, create_key, get_current, get_value, set_value
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import Span, SpanKind

from otel_distro._asgi_types import Scope
from otel_distro._report import internal_error

__all__ = [
    "EVENT_NAME",
    "SignatureViolationSpanProcessor",
    "claim_for_request",
    "security_violation",
    "with_violation",
]

EVENT_NAME = "security.violation"
_PENDING = create_key("otel_distro.baggage_signature_violation")


class _Pending:
    __slots__ = ("claimed", "reason", "scope")

    def __init__(self, reason: str, scope: Scope | None) -> None:
        self.reason = reason
        self.scope = scope
        self.claimed = False


def security_violation(reason: str, span: Span | None = None, scope: Scope | None = None) -> None:
    """Record a rejected baggage signature (``reason`` is one of ``REASONS``) on ``span``.

    The one place a signature violation is emitted, so that it can also reach the
    security-event pipeline; ``span`` defaults to the current span, ``scope`` is the
    request's ASGI scope when there is one.  A span that does not record (unsampled)
    gets no event or attribute, but the record and the count still name its trace.
    """
    from otel_distro.security._events import SPAN_ATTRIBUTE, record_violation

    target = trace.get_current_span() if span is None else span
    if not target.get_span_context().is_valid:
        return
    violation = f"baggage_signature_{reason}"
    with trace.use_span(target, end_on_exit=False):  # the event, record and ids are its
        record_violation(
            "baggage", violation, request=scope, fields={"violation": violation}, explicit=False
        )
    if getattr(target, "kind", None) is SpanKind.SERVER and target.is_recording():
        target.set_attribute(SPAN_ATTRIBUTE, violation)  # its request state does not exist yet


def with_violation(context: Context, reason: str, carrier: object = None) -> Context:
    """``context`` remembering a violation for the next span started under it (and the
    request's ASGI scope when ``carrier`` is one)."""
    scope = carrier if isinstance(carrier, dict) and carrier.get("type") == "http" else None
    return set_value(_PENDING, _Pending(reason, scope), context)


def claim_for_request(scope: Scope) -> None:
    """Record the violation of a request no span processor saw (its span is unsampled).

    Called by the ASGI hook (never raises); a sampled request's was recorded when its
    server span started.
    """
    try:
        pending = get_value(_PENDING)
        if isinstance(pending, _Pending) and not pending.claimed:
            pending.claimed = True
            security_violation(pending.reason, scope=pending.scope or scope)
    except Exception:
        internal_error("signature_events.claim")


class SignatureViolationSpanProcessor(SpanProcessor):
    """Adds a pending ``security.violation`` event to the first span of its context."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            context = get_current() if parent_context is None else parent_context
            pending = get_value(_PENDING, context)
            if isinstance(pending, _Pending) and not pending.claimed:
                pending.claimed = True
                security_violation(pending.reason, span, pending.scope)
        except Exception:  # never break span creation
            internal_error("signature_events.on_start")

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
