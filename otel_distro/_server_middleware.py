"""The lean server middleware: the contrib ASGI middleware's spans and metrics, less work.

Same span (name, kind, attributes, ``exception`` events, status) and the same metric points
as ``opentelemetry.instrumentation.asgi.OpenTelemetryMiddleware`` under the same settings
(``OTEL_SEMCONV_STABILITY_OPT_IN``, ``OTEL_PYTHON_*_EXCLUDED_URLS``, the captured-header
variables), without its internal ``send``/``receive`` spans (the distro drops them unless
``OTEL_DISTRO_ASGI_INTERNAL_SPANS`` is on, and then the contrib middleware is used).  It saves:

- the request's attributes are collected once and handed to ``start_span`` (contrib
  also sets each one again);
- the route comes from the router's own match, read from the scope as the response ends
  (:func:`otel_distro._server_semconv.matched_route`): no second match before the app;
- one context attach and one ``send`` wrapper per request, no receive wrapper;
- captured headers and hooks' attributes only for a recording span;
- metric attribute sets filtered once from fixed key tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from timeit import default_timer
from typing import Any, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation import asgi as contrib_asgi
from opentelemetry.instrumentation._semconv import _StabilityMode
from opentelemetry.instrumentation.propagators import get_global_response_propagator
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from opentelemetry.metrics import MeterProvider
from opentelemetry.propagate import extract
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.http import (
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE,
    ExcludeList,
    SanitizeValue,
    get_custom_headers,
    get_excluded_urls,
    normalise_request_header_name,
    normalise_response_header_name,
    parse_excluded_urls,
)

from otel_distro._asgi_types import ASGIApp, Message, Receive, Scope, Send
from otel_distro._server_attributes import decode_header, request_attributes
from otel_distro._server_semconv import (
    PLAIN,
    Flavour,
    Instruments,
    matched_route,
    metric_target,
    mode,
)

__all__ = ["LeanServerMiddleware"]

# the contrib ASGI package's helpers (untyped there), typed as used here
_host_port_url = cast(Callable[[Scope], tuple[str, Any, str]], contrib_asgi.get_host_port_url_tuple)
_captured_headers = cast(
    Callable[[Mapping[str, Any], SanitizeValue, list[str], Callable[[str], str]], dict[str, Any]],
    contrib_asgi.collect_custom_headers_attributes,
)
_set_status_code = cast(
    Callable[[Span, Any, dict[str, Any], _StabilityMode], None], contrib_asgi.set_status_code
)
asgi_getter = contrib_asgi.asgi_getter
asgi_setter = contrib_asgi.asgi_setter

ServerRequestHook = Callable[[Span, Scope], None]
_HTTP_ROUTE = "http.route"


def _content_length(message: Message) -> int | None:
    """A response start's first ``content-length`` as a number (as contrib reads it)."""
    for key, value in message.get("headers") or ():
        if isinstance(key, bytes) and key.lower() == b"content-length":
            try:
                return int(decode_header(value))
            except ValueError:
                return None
    return None


class LeanServerMiddleware:
    """Traces and measures each HTTP and websocket request of ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        flavour: Flavour = PLAIN,
        *,
        server_request_hook: ServerRequestHook | None = None,
        excluded_urls: ExcludeList | str | None = None,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        from otel_distro.asgi import _MarkEscaping, traced_natively

        self.app: ASGIApp = _MarkEscaping(app)
        self.flavour = flavour
        self.native = traced_natively(app)  # the app traces itself: no second span
        self.semconv = semconv = mode()
        self.tracer = flavour.tracer(semconv, tracer_provider)
        self.instruments = Instruments(flavour.meter(semconv, meter_provider), semconv)
        if isinstance(excluded_urls, str):
            excluded_urls = parse_excluded_urls(excluded_urls)
        self.excluded_urls: ExcludeList = (
            excluded_urls
            if excluded_urls is not None
            else get_excluded_urls(flavour.excluded_urls_variable)
        )
        # an empty list excludes nothing: no URL is built for it per request
        self.excluding = bool(getattr(self.excluded_urls, "_excluded_urls", True))
        self.server_request_hook = server_request_hook
        self.capture_request = (
            get_custom_headers(OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST) or None
        )
        self.capture_response = (
            get_custom_headers(OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE) or None
        )
        self.sanitize = SanitizeValue(
            get_custom_headers(OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS) or []
        )

    def _excluded(self, scope: Scope) -> bool:
        if self.native:
            return True
        if not self.excluding:
            return False
        return bool(self.excluded_urls.url_disabled(_host_port_url(scope)[2]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = default_timer()
        kind = scope["type"]
        if (
            kind not in ("http", "websocket")
            or not is_http_instrumentation_enabled()
            or self._excluded(scope)
        ):
            await self.app(scope, receive, send)
            return
        request = _Request(self, scope, start)
        try:
            if self.server_request_hook is not None:
                try:
                    self.server_request_hook(request.span, scope)
                except Exception as exc:  # the hook's failure is the span's, as in contrib
                    request.span.record_exception(exc)
            await self.app(scope, receive, request.send(send))
        except Exception as exc:
            request.failed(exc)
            raise
        finally:
            request.close()


class _Request:
    """One traced request: its span, attributes and metric state."""

    __slots__ = (
        "active",
        "arrived",
        "attributes",
        "kind",
        "middleware",
        "request_size",
        "response_size",
        "route",
        "scope",
        "span",
        "start",
        "token",
    )

    def __init__(self, middleware: LeanServerMiddleware, scope: Scope, start: float) -> None:
        self.middleware = middleware
        self.scope = scope
        self.start = start
        # a shallow copy (a dozen keys): the rare request whose route the scope does not
        # say is matched on the request as it arrived
        self.arrived: Scope | None = dict(scope) if middleware.flavour.routed else None
        self.route: str | None = None
        self.response_size: int | None = None
        flavour = middleware.flavour
        attributes, self.request_size = request_attributes(scope, middleware.semconv)
        self.attributes = attributes
        if trace.get_current_span() is trace.INVALID_SPAN:
            parent = extract(cast(dict[str, Any], scope), getter=asgi_getter)
            span_kind = SpanKind.SERVER
        else:
            parent = otel_context.get_current()
            span_kind = SpanKind.INTERNAL
        self.kind = span_kind
        self.span = span = middleware.tracer.start_span(
            flavour.start_name(scope), parent, span_kind, attributes=attributes
        )
        self.token = otel_context.attach(trace.set_span_in_context(span, parent))
        if span_kind is SpanKind.SERVER and middleware.capture_request and span.is_recording():
            captured = _captured_headers(
                scope,
                middleware.sanitize,
                middleware.capture_request,
                normalise_request_header_name,
            )
            if captured:
                span.set_attributes(captured)
        self.active: dict[str, Any] | None = None
        if scope["type"] == "http":
            self.active = middleware.instruments.active_attributes(attributes)
            middleware.instruments.active.add(1, self.active)

    def send(self, send: Send) -> Send:
        middleware = self.middleware
        span = self.span
        propagator = get_global_response_propagator()  # type: ignore[no-untyped-call]
        alone = trace.set_span_in_context(span, otel_context.Context())  # built once

        async def traced_send(message: Message) -> None:
            kind = message["type"]
            status: Any = None
            if kind == "http.response.start":
                status = message["status"]
            elif kind == "websocket.send":
                status = 200
            if (
                middleware.capture_response
                and "headers" in message
                and self.kind is SpanKind.SERVER
                and span.is_recording()
            ):
                captured = _captured_headers(
                    message,
                    middleware.sanitize,
                    middleware.capture_response,
                    normalise_response_header_name,
                )
                if captured:
                    span.set_attributes(captured)
            if status:
                _set_status_code(span, status, self.attributes, middleware.semconv)
            if propagator:
                propagator.inject(
                    message,
                    context=alone,
                    setter=asgi_setter,
                )
            if "headers" in message:
                size = _content_length(message)
                if size is not None:
                    self.response_size = size
            await send(message)
            if kind == "http.response.body" and not message.get("more_body", False):
                self._end()

        return traced_send

    def _resolve_route(self) -> None:
        if self.route is None and self.middleware.flavour.routed:
            assert self.arrived is not None
            self.route = matched_route(self.scope, self.arrived) or ""
            if self.route:
                self.attributes[_HTTP_ROUTE] = self.route

    def _end(self) -> None:
        span = self.span
        if not span.is_recording():
            return
        self._resolve_route()
        if self.route:
            span.update_name(self.middleware.flavour.routed_name(self.scope, self.route))
            span.set_attribute(_HTTP_ROUTE, self.route)
        span.end()

    def failed(self, exc: Exception) -> None:
        span = self.span
        if span.is_recording():
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))

    def close(self) -> None:
        """After the app returned or raised: the metric points, then the span's end."""
        try:
            if self.active is not None:
                self._resolve_route()
                self._record()
        finally:
            otel_context.detach(self.token)
            self._end()

    def _record(self) -> None:
        scope = self.scope
        middleware = self.middleware
        attributes = self.attributes
        target = metric_target(scope)
        if target:
            from opentelemetry.instrumentation._semconv import _set_http_target
            from opentelemetry.util.http import _parse_url_query

            path, query = _parse_url_query(target)
            _set_http_target(attributes, target, path, query, middleware.semconv)
        instruments = middleware.instruments
        instruments.record(
            attributes,
            target,
            default_timer() - self.start,
            self.response_size,
            self.request_size,
        )
        assert self.active is not None
        instruments.active.add(-1, self.active)
