"""Every 500 the client sees for an exception escaping a request carries the trace headers.

- A bare ASGI app that raises before starting a response: uvicorn would send its own
  500 past the instrumentation.  :func:`answer_unanswered` sends that same 500 through
  the instrumented ``send`` (so it carries ``traceresponse`` and the request id); the
  exception is then re-raised, the server logs it once and sends nothing more.
- A Starlette app: its ``ServerErrorMiddleware`` (the app's handler, its debug page)
  answers, outside the middleware the Starlette instrumentor adds.  The request's
  context is left on the scope, and ``_WithErrorHeaders`` (around the whole middleware
  stack of every Starlette app but FastAPI's) adds the headers to that response start.
  FastAPI's instrumentor already puts its middleware outside ``ServerErrorMiddleware``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.propagators import get_global_response_propagator

from otel_distro._asgi_types import Message, Receive, Scope, Send
from otel_distro._report import internal_error
from otel_distro.response_headers import (
    HTTP_START,
    RequestIdResponsePropagator,
    ResponseHeaders,
    is_cors_request,
)

__all__ = ["Started", "answer_unanswered", "patch_starlette", "unpatch_starlette"]

SCOPE_KEY = "otel_distro.error_context"
_500_BODY = b"Internal Server Error"


class Started:
    """A ``send`` that remembers whether the response has started."""

    __slots__ = ("send", "value")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.value = False

    async def __call__(self, message: Message) -> None:
        if message.get("type") == HTTP_START:
            self.value = True
        await self.send(message)


async def answer_unanswered(scope: Scope, send: Started, exc: BaseException) -> None:
    """Called with the server span current, as ``exc`` leaves the app; never raises."""
    if send.value or not isinstance(exc, Exception):
        return
    try:
        if not isinstance(get_global_response_propagator(), RequestIdResponsePropagator):  # type: ignore[no-untyped-call]
            return  # no headers of ours (OTEL_DISTRO_RESPONSE_HEADERS=off): the server answers
        if getattr(scope.get("app"), "middleware_stack", None) is not None:
            scope[SCOPE_KEY] = otel_context.get_current()  # Starlette answers; see module doc
            return
    except Exception:
        internal_error("error response context")
        return
    await _send_500(send)


async def _send_500(send: Started) -> None:
    """uvicorn's own 500, sent through the instrumented ``send``.

    A failing send (the client went away) is not reported: the app's exception, the
    one that matters, propagates either way.
    """
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(_500_BODY)).encode("latin-1")),
        (b"connection", b"close"),
    ]
    try:
        await send({"type": HTTP_START, "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": _500_BODY, "more_body": False})
    except Exception:  # noqa: S110 - the connection is gone; the app's exception still propagates
        pass


class _WithErrorHeaders:
    """Around a Starlette middleware stack: a response start sent after the request's
    exception (the app's own 500) gets the trace headers of the request's context."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # code walking the stack reaches the app's
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message.get("type") == HTTP_START and SCOPE_KEY in scope:
                message = _with_headers(scope, message)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_headers(scope: Scope, message: Message) -> Message:
    try:
        context = scope.pop(SCOPE_KEY)
        propagator = get_global_response_propagator()  # type: ignore[no-untyped-call]
        if not isinstance(propagator, RequestIdResponsePropagator):
            return message
        headers = ResponseHeaders(message.get("headers") or (), cors=is_cors_request(scope))
        copy = {**message, "headers": headers}
        propagator.inject(copy, context=context)
        return copy
    except Exception:
        internal_error("error response headers")
        return message


def _is_fastapi(app: object) -> bool:
    return any(kind.__module__.startswith("fastapi.") for kind in type(app).__mro__)


def _wrapping_build(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(original)
    def build_middleware_stack(self: Any) -> Any:
        stack = original(self)
        if _is_fastapi(self):  # its instrumentor's middleware sends the 500: no wrapper cost
            return stack
        return _WithErrorHeaders(stack)

    build_middleware_stack._otel_distro_original = original  # type: ignore[attr-defined]
    return build_middleware_stack


def patch_starlette() -> None:
    """Wrap ``Starlette.build_middleware_stack`` (once); never raises."""
    try:
        from starlette.applications import Starlette
    except ImportError:
        return
    try:
        original = Starlette.build_middleware_stack
        if not hasattr(original, "_otel_distro_original"):
            Starlette.build_middleware_stack = _wrapping_build(original)  # type: ignore[method-assign, assignment]
    except Exception:
        internal_error("error response patch")


def unpatch_starlette() -> None:
    """Undo :func:`patch_starlette` (tests)."""
    try:
        from starlette.applications import Starlette
    except ImportError:
        return
    original = getattr(Starlette.build_middleware_stack, "_otel_distro_original", None)
    if original is not None:
        Starlette.build_middleware_stack = original  # type: ignore[method-assign]
