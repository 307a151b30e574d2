"""Correlation and tenant context: the trace is the correlation id, baggage carries the tenant.

A request gets one mutable :class:`RequestState`, stored in a context variable
when its server span starts.  :func:`set_tenant` writes the tenant into that
state *and* into W3C baggage.  The state object is shared by every copy of the
request's context, so a call made from a FastAPI dependency that runs in a
threadpool (whose context changes never flow back) is still seen by the rest
of the request: span and log processors and the outbound propagator read the
state first and fall back to baggage.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import quote

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import Span, format_trace_id

from otel_distro import _state
from otel_distro._report import internal_error

__all__ = [
    "TENANT_KEY",
    "USER_KEY",
    "RequestState",
    "TenantScope",
    "begin_request",
    "context_values",
    "correlation_id",
    "current_request",
    "current_tenant",
    "sanitize_identifier",
    "set_tenant",
]

TENANT_KEY = "tenant.id"
USER_KEY = "user.id"
MAX_IDENTIFIER_LENGTH = 128
_SAFE_PUNCTUATION = "._:@/+=-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._:@/+=-]")


@dataclass
class RequestState:
    """What one request knows about its caller once authenticated.

    ``values`` is replaced, never mutated, so readers may keep a reference as a snapshot.
    """

    server_span: Span | None = None
    values: dict[str, str] = field(default_factory=dict)


_request: contextvars.ContextVar[RequestState | None] = contextvars.ContextVar(
    "otel_distro_request", default=None
)


def _end_request() -> None:
    """A reset (tests) ends the request of the resetting context: nothing is inherited."""
    _request.set(None)


_state.on_reset("context.request", _end_request)


def sanitize_identifier(value: object) -> str | None:
    """A tenant/user id fit for baggage and attributes: short, printable, no separators.

    Unsafe characters are percent-encoded and an over-long id keeps a digest of the
    whole, so two different ids never become the same one.
    """
    if value is None:
        return None
    try:
        raw = str(value)
    except Exception:  # the app's id object failed, not the distro: such an object is no id
        return None
    if not raw:
        return None
    head = raw[: MAX_IDENTIFIER_LENGTH + 1]  # enough to know whether it must be cut
    text = head if _UNSAFE.search(head) is None else quote(head, safe=_SAFE_PUNCTUATION)
    if len(text) > MAX_IDENTIFIER_LENGTH or len(raw) > len(head):
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        text = f"{text[: MAX_IDENTIFIER_LENGTH - 17]}~{digest}"
    return text


def begin_request(server_span: Span | None) -> RequestState:
    """Start the request-scoped state (called from the server request hook)."""
    state = RequestState(server_span=server_span)
    _request.set(state)
    return state


def current_request() -> RequestState | None:
    """The state of the request being served, if any."""
    return _request.get()


def correlation_id() -> str | None:
    """The current trace id as 32 lowercase hex digits, or None outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format_trace_id(span_context.trace_id)


def context_values(
    keys: tuple[str, ...] | frozenset[str], context: Context | None = None
) -> dict[str, str]:
    """Values for ``keys`` from the request state, then from baggage in ``context``."""
    found: dict[str, str] = {}
    entries = baggage.get_all(context)
    for key in keys:
        value = entries.get(key)
        if value is not None:
            found[key] = str(value)
    state = _request.get()
    if state is not None:
        for key in keys:
            if key in state.values:
                found[key] = state.values[key]
    return found


def current_tenant() -> tuple[str | None, str | None]:
    """(tenant id, user id) of the current request or baggage."""
    values = context_values((TENANT_KEY, USER_KEY))
    return values.get(TENANT_KEY), values.get(USER_KEY)


class TenantScope:
    """Returned by :func:`set_tenant`; use it as a context manager to undo the change."""

    def __init__(
        self,
        token: object,
        state: RequestState | None,
        previous: dict[str, str] | None,
    ) -> None:
        self._token = token
        self._state = state
        self._previous = previous
        self._closed = False

    def __enter__(self) -> TenantScope:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Restore the tenant context that was in force before ``set_tenant``."""
        if self._closed:
            return
        self._closed = True
        if self._state is not None and self._previous is not None:
            self._state.values = self._previous
        if self._token is None:
            return
        try:
            otel_context.detach(self._token)  # type: ignore[arg-type]
        except Exception:  # the SDK logs a detach in another context; anything else is ours
            internal_error("context.tenant_scope")


def set_tenant(tenant_id: object = None, user_id: object = None, **extra: object) -> TenantScope:
    """Mark the current request (or block) as belonging to a tenant and user.

    Call it only after authentication: the values go into W3C baggage (sent to
    internal services allowed by ``OTEL_DISTRO_BAGGAGE_PROPAGATE_TO``), onto the
    server span and onto every later span and log record of the request.  Extra
    keyword arguments name further baggage keys (``_`` in the name becomes ``.``).

    Never raises: it runs inside the app's own auth code, where a telemetry failure
    (an id whose ``str()`` raises, a broken context) must not fail the request.
    """
    try:
        return _set_tenant(tenant_id, user_id, extra)
    except Exception:
        internal_error("context.set_tenant")
        return TenantScope(None, None, None)


def _set_tenant(tenant_id: object, user_id: object, extra: dict[str, object]) -> TenantScope:
    updates: dict[str, str] = {}
    for key, raw in ((TENANT_KEY, tenant_id), (USER_KEY, user_id)):
        value = sanitize_identifier(raw)
        if value is not None:
            updates[key] = value
    for name, raw in extra.items():
        value = sanitize_identifier(raw)
        if value is not None:
            updates[name.replace("_", ".")] = value

    ctx = otel_context.get_current()
    for key, value in updates.items():
        ctx = baggage.set_baggage(key, value, context=ctx)
    token = otel_context.attach(ctx)

    state = _request.get()
    previous: dict[str, str] | None = None
    if state is not None:
        previous = state.values
        state.values = {**state.values, **updates}
        span = state.server_span
    else:
        span = trace.get_current_span()
    if span is not None and span.is_recording():
        # Exported attributes pass the redacting exporter; nothing else to do here.
        span.set_attributes(updates)
    return TenantScope(token, state, previous)
