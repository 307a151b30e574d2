"""The lean server middleware in every Starlette and FastAPI app, where contrib put its own.

With ``OTEL_DISTRO_SERVER_MIDDLEWARE=lean`` the distro does not load the contrib FastAPI and
Starlette instrumentors; instead ``Starlette.build_middleware_stack`` is wrapped (once) to
place :class:`~otel_distro._server_middleware.LeanServerMiddleware` where they would:

- a FastAPI app: outside a second ``ServerErrorMiddleware`` (the app's handler and debug
  setting), whose app records an exception on the server span before it answers;
- a Starlette app: the outermost of the app's own middleware (inside its
  ``ServerErrorMiddleware``).

An app a contrib instrumentor instrumented itself (``instrument_app``) is left to it.
FastAPI's background tasks get their ``BackgroundTask <name>`` span, as with contrib, and
FastAPI's own telemetry (0.165+) stands aside, as it does for the contrib middleware.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.trace import Status, StatusCode, get_current_span

from otel_distro._asgi_types import ASGIApp, Receive, Scope, Send
from otel_distro._error_response import _WithErrorHeaders
from otel_distro._report import internal_error
from otel_distro._server_semconv import FASTAPI, STARLETTE, mode
from otel_distro._state import Slot, slot

__all__ = [
    "SERVER_ENTRY_POINT",
    "ServerInstrumentor",
    "install_lean",
    "lean_stack",
    "uninstall_lean",
]

ServerRequestHook = Callable[..., None]
FRAMEWORKS = ("fastapi", "starlette")


class _Lean:
    """The hook the lean middlewares get, and the frameworks whose apps get one."""

    def __init__(self) -> None:
        self.hook: ServerRequestHook | None = None
        self.frameworks: set[str] = set()


_lean: Slot[_Lean] = slot("server.lean", _Lean)


class _RecordException:
    """Inside FastAPI's inner ``ServerErrorMiddleware``: the exception on the server span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            span = get_current_span()
            if span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise


def _is_fastapi(app: object) -> bool:
    return any(kind.__module__.startswith("fastapi.") for kind in type(app).__mro__)


def lean_stack(app: Any, stack: Any) -> Any:
    """``stack`` (what ``build_middleware_stack`` built for ``app``) with the lean middleware."""
    from starlette.middleware.errors import ServerErrorMiddleware

    from otel_distro._server_middleware import LeanServerMiddleware

    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        return stack  # instrumented by a contrib instrumentor's instrument_app
    if not isinstance(stack, ServerErrorMiddleware):
        return stack  # not Starlette's own stack: left as it is
    fastapi = _is_fastapi(app)
    if ("fastapi" if fastapi else "starlette") not in _lean.value.frameworks:
        return stack  # that framework's instrumentation is disabled
    hook = _lean.value.hook
    if fastapi:
        _trace_background_tasks()
        _without_native_telemetry(app)
        inner = ServerErrorMiddleware(
            app=_RecordException(stack.app), handler=stack.handler, debug=stack.debug
        )
        traced = LeanServerMiddleware(inner, FASTAPI, server_request_hook=hook)
        return ServerErrorMiddleware(app=traced)
    stack.app = LeanServerMiddleware(stack.app, STARLETTE, server_request_hook=hook)
    return stack


def _without_native_telemetry(app: Any) -> None:
    """FastAPI's own telemetry stands aside for the contrib middleware it recognises in
    the stack; the lean middleware takes the same place, so it stands aside for it too."""
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False)


def _wrapping_build(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(original)
    def build_middleware_stack(self: Any) -> Any:
        stack = original(self)
        try:
            if isinstance(stack, _WithErrorHeaders):  # around a Starlette app's stack
                stack.app = lean_stack(self, stack.app)
                return stack
            return lean_stack(self, stack)
        except Exception:
            internal_error("server middleware install")
            return stack

    build_middleware_stack._otel_distro_lean = original  # type: ignore[attr-defined]
    return build_middleware_stack


def _app_classes() -> list[Any]:
    """Starlette, and FastAPI (which builds its own stack), where importable."""
    classes: list[Any] = []
    try:
        from starlette.applications import Starlette

        classes.append(Starlette)
        from fastapi import FastAPI

        classes.append(FastAPI)
    except ImportError:
        pass
    return classes


def install_lean(hook: ServerRequestHook | None, frameworks: Iterable[str] = FRAMEWORKS) -> None:
    """Give the apps of ``frameworks`` the lean middleware, with ``hook``: wraps
    ``build_middleware_stack`` of Starlette and FastAPI (once)."""
    _lean.value.hook = hook
    _lean.value.frameworks.update(frameworks)
    try:
        mode()  # read OTEL_SEMCONV_STABILITY_OPT_IN now, as the contrib instrumentors do
        for kind in _app_classes():
            current = kind.__dict__.get("build_middleware_stack")
            if current is not None and not hasattr(current, "_otel_distro_lean"):
                kind.build_middleware_stack = _wrapping_build(current)
    except Exception:
        internal_error("server middleware install")


def uninstall_lean() -> None:
    """Undo :func:`install_lean` where it is the outermost wrapper (tests)."""
    for kind in _app_classes():
        original = getattr(kind.__dict__.get("build_middleware_stack"), "_otel_distro_lean", None)
        if original is not None:
            kind.build_middleware_stack = original
    _lean.reset()
    try:
        from starlette.background import BackgroundTask
    except ImportError:
        return
    if getattr(BackgroundTask.__call__, "_otel_distro_lean", False):
        BackgroundTask.__call__ = BackgroundTask._otel_original_call  # type: ignore[attr-defined, method-assign]
        del BackgroundTask._otel_original_call  # type: ignore[attr-defined]


def _trace_background_tasks() -> None:
    """``BackgroundTask <function name>`` spans, as the contrib FastAPI instrumentor adds."""
    from starlette.background import BackgroundTask

    if hasattr(BackgroundTask, "_otel_original_call"):
        return
    original = BackgroundTask.__call__
    tracer = FASTAPI.tracer(mode(), None)

    async def traced_call(self: BackgroundTask) -> None:
        name = getattr(self.func, "__name__", type(self.func).__name__)
        with tracer.start_as_current_span(f"BackgroundTask {name}"):
            await original(self)

    traced_call._otel_distro_lean = True  # type: ignore[attr-defined]
    BackgroundTask._otel_original_call = original  # type: ignore[attr-defined]
    BackgroundTask.__call__ = traced_call  # type: ignore[method-assign]


SERVER_ENTRY_POINT = "otel_distro_server"


class ServerInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """The ``otel_distro_server`` instrumentor entry point: Starlette apps get the lean
    middleware without the contrib Starlette instrumentation installed.

    The distro acts on the entry point itself (:meth:`OtelDistro.load_instrumentor`);
    loaded by another distro, this instrumentor does nothing.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("starlette >= 0.13",)

    def _instrument(self, **kwargs: Any) -> None:
        return None

    def _uninstrument(self, **kwargs: Any) -> None:
        return None
