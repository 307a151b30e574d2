"""ASGI integration: the server request hook and ``instrument(app)`` for any ASGI app.

FastAPI and Starlette apps get the distro's lean server middleware
(:mod:`otel_distro._server_install`; with ``OTEL_DISTRO_SERVER_MIDDLEWARE=contrib``, the
contrib instrumentors' middleware), which calls :func:`server_request_hook`.  Any other
ASGI app is wrapped with :func:`instrument`.  The hook starts the request state, records a
client-sent request id (sanitised, never trusted as the correlation id) and,
when configured, resolves the tenant from a verified bearer token.

An app that traces itself with Starlette's own ``OpenTelemetryMiddleware`` is left to
it: the contrib middleware the instrumentors add passes its requests through untraced.

Response headers (``traceresponse``, the request id) are added to a copy of each
response start, never to the app's own headers (:mod:`otel_distro.response_headers`).

An exception leaving the app while the server span is current is marked with
that span and the request context (:mod:`otel_distro._exception_origin`), so the server's
own log of it, written after the span ended, is still correlated.
:func:`instrument` wraps its middleware's app for this; :func:`mark_escaping_exceptions`
(called by the distro before the FastAPI/Starlette instrumentors load) makes every
``OpenTelemetryMiddleware`` they build do the same.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.trace import Span

from otel_distro._asgi_types import Receive, Scope, Send
from otel_distro._error_response import (
    Started,
    answer_unanswered,
    patch_starlette,
    unpatch_starlette,
)
from otel_distro._exception_origin import remember
from otel_distro._report import internal_error
from otel_distro._signature_events import claim_for_request
from otel_distro._state import Slot, slot
from otel_distro.auth import TokenVerifier, build_verifier
from otel_distro.config import Settings, get_settings, report
from otel_distro.context import begin_request, set_tenant
from otel_distro.errors._span import guard_server_span, record_escaped
from otel_distro.response_headers import own_response_headers
from otel_distro.security._auto import record_token_rejection, watch_response

__all__ = [
    "instrument",
    "lean_server",
    "mark_escaping_exceptions",
    "reset_hook_state",
    "server_request_hook",
    "unmark_escaping_exceptions",
]

MAX_CLIENT_REQUEST_ID = 64
_UNSAFE_REQUEST_ID = re.compile(r"[^A-Za-z0-9._:-]")

ServerRequestHook = Callable[[Span, Scope], None]


class _HookState:
    """Values the hook needs, derived once from the settings."""

    def __init__(self, settings: Settings, verifier: bool = True) -> None:
        self.request_id_header: bytes = settings.request_id_header.lower().encode("latin-1")
        self.request_id_attribute = f"http.request.header.{settings.request_id_header.lower()}"
        self.verifier: TokenVerifier | None = build_verifier(settings) if verifier else None


_hook_state: Slot[_HookState | None] = slot("asgi.hook_state", lambda: None)


def _state() -> _HookState:
    state: _HookState | None = _hook_state.value
    if state is None:
        try:
            state = _HookState(get_settings())
        except Exception as exc:  # built once: never retried (and failed) per request
            report(
                f"request hook setup failed ({type(exc).__name__}: {exc}); "
                "bearer tokens will not set the tenant"
            )
            state = _HookState(get_settings(), verifier=False)
        _hook_state.value = state
    return state


def reset_hook_state() -> None:
    """Forget derived hook state (tests, or after changing settings)."""
    _hook_state.reset()


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def sanitize_request_id(raw: str) -> str:
    """A client request id, redacted, then reduced to safe characters and a bounded length.

    Redaction runs first: stripping ``=`` or spaces would separate a secret from the key
    that marks it (``token=...``).  If redaction fails, nothing is recorded.
    """
    head = raw[: MAX_CLIENT_REQUEST_ID * 4]
    try:
        from otel_distro.redaction import get_redactor

        head = get_redactor().redact_text(head)
    except Exception:
        internal_error("asgi.request_id")
        return ""
    return _UNSAFE_REQUEST_ID.sub("", head)[:MAX_CLIENT_REQUEST_ID]


def server_request_hook(span: Span, scope: Scope) -> None:
    """Runs at the start of every server span; never raises."""
    try:
        begin_request(span)  # first: the request state must exist whatever fails below
        guard_server_span(span)  # one bounded ``exception`` event per escaping exception
        claim_for_request(scope)  # a refused baggage signature of an unsampled request
        state = _state()
        headers = scope.get("headers") or ()
        if state.request_id_header and span.is_recording():
            client_id = _header(headers, state.request_id_header)
            if client_id:
                cleaned = sanitize_request_id(client_id)
                if cleaned:
                    span.set_attribute(state.request_id_attribute, [cleaned])
        if state.verifier is not None:
            result = state.verifier.verify_header(_header(headers, b"authorization"))
            if result is not None:
                if result.rejected is None:
                    set_tenant(tenant_id=result.tenant_id, user_id=result.user_id)
                else:
                    record_token_rejection(scope, result.rejected)
    except Exception:  # telemetry never breaks a request
        internal_error("asgi.server_request_hook")


def chain_hooks(*hooks: ServerRequestHook | None) -> ServerRequestHook:
    """One hook calling ours first, then the user's (each failure contained)."""
    present = [hook for hook in hooks if hook is not None]

    def hook(span: Span, scope: Scope) -> None:
        for each in present:
            try:
                each(span, scope)
            except Exception:  # noqa: S110 - the application's own hook failed, not ours
                pass

    return hook


_LEAN_KWARGS = frozenset({"excluded_urls", "tracer_provider", "meter_provider"})


def lean_server(settings: Settings) -> bool:
    """Whether the distro's own server middleware traces requests (else the contrib one)."""
    return settings.server_middleware == "lean" and not settings.asgi_internal_spans


def instrument(app: Any, **kwargs: Any) -> Any:
    """Wrap any ASGI app with the OpenTelemetry middleware and the distro's hook.

    Returns the wrapped app: the lean middleware (:mod:`otel_distro._server_middleware`),
    or, with ``OTEL_DISTRO_SERVER_MIDDLEWARE=contrib`` or keyword arguments only it takes,
    ``OpenTelemetryMiddleware`` (extra keyword arguments go to it).  A FastAPI app is
    instrumented in place, as the contrib FastAPI instrumentor does it (with the distro's
    hook, keyword arguments going to its ``instrument_app``), and returned: wrapped from
    outside, FastAPI's own telemetry would record a second server span per request.
    """
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.util.http import get_excluded_urls

    settings = get_settings()
    user_hook = kwargs.pop("server_request_hook", None)
    if _is_fastapi(app):
        return _instrument_fastapi(app, settings, user_hook, kwargs)
    kwargs.setdefault("excluded_urls", get_excluded_urls("ASGI"))
    if lean_server(settings) and set(kwargs) <= _LEAN_KWARGS:
        from otel_distro._server_middleware import LeanServerMiddleware

        return LeanServerMiddleware(
            app, server_request_hook=chain_hooks(server_request_hook, user_hook), **kwargs
        )
    if not settings.asgi_internal_spans:
        kwargs.setdefault("exclude_spans", ["receive", "send"])
    middleware = OpenTelemetryMiddleware(
        app, server_request_hook=chain_hooks(server_request_hook, user_hook), **kwargs
    )
    _wrap_inner_app(middleware)
    return middleware


def _is_fastapi(app: object) -> bool:
    fastapi = sys.modules.get("fastapi")  # an app of it exists only once it is imported
    return fastapi is not None and isinstance(app, fastapi.FastAPI)


def _instrument_fastapi(
    app: Any, settings: Settings, user_hook: ServerRequestHook | None, kwargs: dict[str, Any]
) -> Any:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    mark_escaping_exceptions()  # before the middleware stack (and its middleware) is built
    if not settings.asgi_internal_spans:
        kwargs.setdefault("exclude_spans", ["receive", "send"])
    FastAPIInstrumentor.instrument_app(
        app, server_request_hook=chain_hooks(server_request_hook, user_hook), **kwargs
    )
    return app


class _MarkEscaping:
    """The app inside an ``OpenTelemetryMiddleware``: marks exceptions leaving the span,
    and sends the server copies of response starts (:func:`own_response_headers`), so
    that the response propagator never writes into the app's own header list."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        send = own_response_headers(scope, send)
        started = Started(send) if scope.get("type") == "http" else None
        try:
            return await self.app(scope, receive, watch_response(scope, started or send))
        except BaseException as exc:
            remember(exc)  # never raises; the same exception propagates
            record_escaped(exc)  # status ERROR, one bounded ``exception`` event; never raises
            if started is not None:
                await answer_unanswered(scope, started, exc)  # the 500 carries our headers
            raise


def _wrap_inner_app(middleware: Any) -> None:
    """Run a middleware's (ASGI 3) app inside :class:`_MarkEscaping`, once."""
    try:
        if not isinstance(middleware.app, _MarkEscaping):
            middleware.app = _MarkEscaping(middleware.app)
    except Exception:  # noqa: S110 - a third-party middleware refusing the attribute
        pass  # works as before


def mark_escaping_exceptions() -> None:
    """Make every ``OpenTelemetryMiddleware`` created from now on mark escaping exceptions,
    own its response headers, and stand aside for an app traced by Starlette's own middleware.

    The contrib FastAPI and Starlette instrumentors build the middleware themselves,
    so its ``__init__`` is wrapped (once) to wrap the app it stores.  Never raises.
    """
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    except ImportError:  # not installed: nothing to mark
        return
    try:
        original = OpenTelemetryMiddleware.__init__
        if not hasattr(original, "_otel_distro_original"):
            OpenTelemetryMiddleware.__init__ = _wrapping_init(original)  # type: ignore[method-assign]
    except Exception:  # escaping exceptions are then logged without ids
        internal_error("asgi.mark_escaping")
    patch_starlette()  # a Starlette app's own 500 gets the trace headers too


def _wrapping_init(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, app: Any, *args: Any, **kwargs: Any) -> None:
        original(self, app, *args, **kwargs)
        _wrap_inner_app(self)
        _defer_to_native_tracing(self, app)

    __init__._otel_distro_original = original  # type: ignore[attr-defined]
    return __init__


_NATIVE_MIDDLEWARE = ("starlette.middleware.opentelemetry", "OpenTelemetryMiddleware")
_MAX_CHAIN = 64


def traced_natively(app: object) -> bool:
    """Whether an app's middleware chain (``.app`` links) holds Starlette's own
    ``OpenTelemetryMiddleware``: the app traces its requests itself."""
    for _ in range(_MAX_CHAIN):
        kind = type(app)
        if (kind.__module__, kind.__name__) == _NATIVE_MIDDLEWARE:
            return True
        app = getattr(app, "app", None)
        if app is None:
            return False
    return False


class _EveryUrl:
    """An exclusion list that excludes every URL (the contrib middleware then passes through)."""

    def url_disabled(self, url: str) -> bool:
        return True


def _defer_to_native_tracing(middleware: Any, app: Any) -> None:
    """An app using Starlette's own tracing middleware gets no second server span from us."""
    try:
        if traced_natively(app):
            middleware.excluded_urls = _EveryUrl()
    except Exception:
        internal_error("asgi native tracing check")


def unmark_escaping_exceptions() -> None:
    """Undo :func:`mark_escaping_exceptions` for middlewares created later (tests)."""
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    except ImportError:
        return
    original = getattr(OpenTelemetryMiddleware.__init__, "_otel_distro_original", None)
    if original is not None:
        OpenTelemetryMiddleware.__init__ = original  # type: ignore[method-assign]
    unpatch_starlette()
