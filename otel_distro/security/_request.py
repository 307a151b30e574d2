"""What a security event knows about its request: the ASGI scope, the server span, the mark.

A request served through the distro's ASGI hook gets a :class:`RequestMark`, kept in a
context variable: the scope (so an event logged without ``request=`` still knows the
method, route and address) and whether an explicit security event was recorded (so the
automatic 401/403 detection does not count it twice).  The mark is one shared object,
so an event logged from a FastAPI dependency run in a threadpool is seen too.
"""

from __future__ import annotations

import contextvars
from typing import Any

from opentelemetry.trace import Span

from otel_distro._asgi_types import Scope
from otel_distro.context import RequestState, current_request

__all__ = ["RequestMark", "current_mark", "request_fields", "scope_of", "server_span"]

MAX_PATH = 2048
MAX_USER_AGENT = 512
MAX_METHOD = 16


class RequestMark:
    """One request's scope and whether it already had an explicit security event."""

    __slots__ = ("recorded", "scope", "state")

    def __init__(self, state: RequestState | None, scope: Scope | None) -> None:
        self.state = state
        self.scope = scope
        self.recorded = False


_mark: contextvars.ContextVar[RequestMark | None] = contextvars.ContextVar(
    "otel_distro_security_mark", default=None
)


def current_mark(scope: Scope | None = None, create: bool = False) -> RequestMark | None:
    """The mark of the request being served (created when ``create``), or None.

    A mark left from an earlier request in the same context (its request state is not
    the current one) is stale and ignored.
    """
    state = current_request()
    mark = _mark.get()
    if mark is not None and mark.state is state and state is not None:
        if mark.scope is None and scope is not None:
            mark.scope = scope
        return mark
    if not create:
        return None
    mark = RequestMark(state, scope)
    _mark.set(mark)
    return mark


def scope_of(request: object) -> Scope | None:
    """The ASGI scope of a Starlette ``Request``, a scope itself, or the current request's.

    An object with ``method``/``url.path``/``client.host``/``headers`` but no scope dict
    (a test double, another framework's request) is read through those attributes.
    """
    if isinstance(request, dict):
        return request
    if request is not None:
        try:
            scope = request.scope  # type: ignore[attr-defined]
        except Exception:
            scope = None
        if isinstance(scope, dict):
            return scope
        built = _scope_from_attributes(request)
        if built is not None:
            return built
    mark = current_mark()
    return mark.scope if mark is not None else None


_FORWARDED_HEADERS = ("user-agent", "x-forwarded-for", "forwarded")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _scope_from_attributes(request: object) -> Scope | None:
    try:
        method = _text(getattr(request, "method", None))
        path = _text(getattr(getattr(request, "url", None), "path", None))
        host = _text(getattr(getattr(request, "client", None), "host", None))
        headers: list[tuple[bytes, bytes]] = []
        source = getattr(request, "headers", None)
        getter = getattr(source, "get", None)
        if callable(getter):
            for name in _FORWARDED_HEADERS:
                value = _text(getter(name))
                if value is not None:
                    headers.append((name.encode(), value.encode("latin-1", "replace")))
    except Exception:
        return None
    if method is None and path is None and host is None:
        return None
    scope: Scope = {"type": "http", "headers": headers}
    if method is not None:
        scope["method"] = method
    if path is not None:
        scope["path"] = path
    if host is not None:
        scope["client"] = (host, 0)
    return scope


def server_span() -> Span | None:
    """The server span of the current request, if any."""
    state = current_request()
    return state.server_span if state is not None else None


def _span_attribute(span: Span | None, *names: str) -> object:
    attributes = getattr(span, "attributes", None)
    if not attributes:
        return None
    for name in names:
        try:
            value = attributes.get(name)
        except Exception:
            return None
        if value is not None:
            return value
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for item in scope.get("headers") or ():
        try:
            key, value = item
            if key.lower() == name:
                return bytes(value[: MAX_USER_AGENT * 2]).decode("latin-1")
        except Exception:  # noqa: S112 - a malformed header item is skipped
            continue
    return None


def route_of(scope: Scope | None, span: Span | None) -> str | None:
    """The route template: Starlette's matched route, else the server span's ``http.route``."""
    route = scope.get("route") if scope is not None else None
    path = getattr(route, "path", None) if route is not None else None
    if isinstance(path, str) and path:
        return path
    value = _span_attribute(span, "http.route")
    return value if isinstance(value, str) and value else None


def request_fields(scope: Scope | None, span: Span | None) -> dict[str, Any]:
    """Method, route, path and user agent of a request (not yet redacted)."""
    fields: dict[str, Any] = {}
    method = scope.get("method") if scope is not None else None
    if not isinstance(method, str):
        method = _span_attribute(span, "http.request.method", "http.method")
    if isinstance(method, str) and method:
        fields["http.request.method"] = method[:MAX_METHOD]
    route = route_of(scope, span)
    if route is not None:
        fields["http.route"] = route
    path = scope.get("path") if scope is not None else None
    if not isinstance(path, str):
        path = _span_attribute(span, "url.path", "http.target")
    if isinstance(path, str) and path:
        fields["url.path"] = path.split("?", 1)[0][:MAX_PATH]
    agent: object = _header(scope, b"user-agent") if scope is not None else None
    if agent is None:
        agent = _span_attribute(span, "user_agent.original", "http.user_agent")
    if isinstance(agent, str) and agent:
        fields["user_agent.original"] = agent[:MAX_USER_AGENT]
    return fields
