"""What the lean server middleware records, in the contrib ASGI middleware's terms.

One :class:`Flavour` per kind of app says which instrumentation scope the spans and
metrics carry, which excluded-URL variable applies and how the span is named, as the
contrib FastAPI, Starlette and ASGI instrumentations do.  :class:`Instruments` holds the
semconv HTTP server instruments of the opt-in mode in force
(``OTEL_SEMCONV_STABILITY_OPT_IN``) and records one request's points from attribute sets
filtered once.  :func:`matched_route` names the route the router matched, read from the
scope after the app ran (``scope["route"]``) instead of matching the routes a second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation._semconv import (
    HTTP_DURATION_HISTOGRAM_BUCKETS_NEW,
    _get_schema_url,
    _OpenTelemetrySemanticConventionStability,
    _OpenTelemetryStabilitySignalType,
    _report_new,
    _report_old,
    _server_active_requests_count_attrs_new,
    _server_active_requests_count_attrs_old,
    _server_duration_attrs_new,
    _server_duration_attrs_old,
    _StabilityMode,
)
from opentelemetry.metrics import Histogram, Meter, MeterProvider, UpDownCounter, get_meter
from opentelemetry.semconv._incubating.metrics.http_metrics import (
    create_http_server_active_requests,
    create_http_server_request_body_size,
    create_http_server_response_body_size,
)
from opentelemetry.semconv.metrics import MetricInstruments
from opentelemetry.semconv.metrics.http_metrics import HTTP_SERVER_REQUEST_DURATION
from opentelemetry.trace import Tracer, TracerProvider, get_tracer
from opentelemetry.util.http import sanitize_method

from otel_distro._asgi_types import Scope

__all__ = ["FASTAPI", "PLAIN", "STARLETTE", "Flavour", "Instruments", "matched_route", "mode"]

_LEGACY_SCHEMA = "https://opentelemetry.io/schemas/1.11.0"
_ASGI_SCOPE = "opentelemetry.instrumentation.asgi"


def mode() -> _StabilityMode:
    """The HTTP semconv mode of ``OTEL_SEMCONV_STABILITY_OPT_IN`` (read once by contrib)."""
    _OpenTelemetrySemanticConventionStability._initialize()  # type: ignore[no-untyped-call]
    return _OpenTelemetrySemanticConventionStability._get_opentelemetry_stability_opt_in_mode(
        _OpenTelemetryStabilitySignalType.HTTP
    )


def _version() -> str:
    from opentelemetry.instrumentation.asgi.version import __version__

    return str(__version__)


@dataclass(frozen=True)
class Flavour:
    """How one kind of app is traced: scope name, excluded-URL variable, span naming."""

    scope_name: str
    excluded_urls_variable: str
    routed: bool  # the span is named after the matched route
    sanitized_method: bool  # the route-named span uses the sanitised method
    fixed_schema: str | None = None

    def schema_url(self, semconv: _StabilityMode) -> str:
        return self.fixed_schema or str(_get_schema_url(semconv))

    def tracer(self, semconv: _StabilityMode, provider: TracerProvider | None) -> Tracer:
        return get_tracer(self.scope_name, _version(), provider, self.schema_url(semconv))

    def meter(self, semconv: _StabilityMode, provider: MeterProvider | None) -> Meter:
        return get_meter(self.scope_name, _version(), provider, self.schema_url(semconv))

    def start_name(self, scope: Mapping[str, Any]) -> str:
        """The span's name before the app ran (final for an unrouted app)."""
        method = scope.get("method", "").strip()
        if self.routed:
            return self.method_name(method)
        path = scope.get("path", "").strip()
        method = str(sanitize_method(method))
        if method == "_OTHER":
            method = "HTTP"
        if method and path:
            return f"{method} {path}"
        return path or method

    def method_name(self, method: str) -> str:
        if not self.sanitized_method:
            return method
        method = str(sanitize_method(method))
        return "HTTP" if method == "_OTHER" else method

    def routed_name(self, scope: Mapping[str, Any], route: str) -> str:
        method = self.method_name(scope.get("method", "").strip())
        return f"{method} {route}" if method else route


PLAIN = Flavour(_ASGI_SCOPE, "ASGI", routed=False, sanitized_method=True)
FASTAPI = Flavour(
    "opentelemetry.instrumentation.fastapi", "FASTAPI", routed=True, sanitized_method=True
)
STARLETTE = Flavour(
    "opentelemetry.instrumentation.starlette",
    "STARLETTE",
    routed=True,
    sanitized_method=False,
    fixed_schema=_LEGACY_SCHEMA,
)


def _pick(attributes: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: attributes[key] for key in keys if key in attributes}


class Instruments:
    """The HTTP server instruments of one middleware, for one semconv mode."""

    def __init__(self, meter: Meter, semconv: _StabilityMode) -> None:
        old, new = _report_old(semconv), _report_new(semconv)
        self.duration_old: Histogram | None = None
        self.duration_new: Histogram | None = None
        self.response_size_old: Histogram | None = None
        self.response_size_new: Histogram | None = None
        self.request_size_old: Histogram | None = None
        self.request_size_new: Histogram | None = None
        if old:
            self.duration_old = meter.create_histogram(
                name=MetricInstruments.HTTP_SERVER_DURATION,
                unit="ms",
                description="Measures the duration of inbound HTTP requests.",
            )
        if new:
            self.duration_new = meter.create_histogram(
                name=HTTP_SERVER_REQUEST_DURATION,
                description="Duration of HTTP server requests.",
                unit="s",
                explicit_bucket_boundaries_advisory=HTTP_DURATION_HISTOGRAM_BUCKETS_NEW,
            )
        if old:
            self.response_size_old = meter.create_histogram(
                name=MetricInstruments.HTTP_SERVER_RESPONSE_SIZE,
                unit="By",
                description="measures the size of HTTP response messages (compressed).",
            )
        if new:
            self.response_size_new = create_http_server_response_body_size(meter)
        if old:
            self.request_size_old = meter.create_histogram(
                name=MetricInstruments.HTTP_SERVER_REQUEST_SIZE,
                unit="By",
                description="Measures the size of HTTP request messages (compressed).",
            )
        if new:
            self.request_size_new = create_http_server_request_body_size(meter)
        self.active: UpDownCounter = create_http_server_active_requests(meter)
        active_keys: list[str] = []
        if old:
            active_keys += _server_active_requests_count_attrs_old
        if new:
            active_keys += _server_active_requests_count_attrs_new
        self._active_keys = tuple(dict.fromkeys(active_keys))
        self._duration_old_keys = tuple(_server_duration_attrs_old)
        self._duration_new_keys = tuple(_server_duration_attrs_new)

    def active_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        return _pick(attributes, self._active_keys)

    def record(
        self,
        attributes: Mapping[str, Any],
        target: str | None,
        seconds: float,
        response_size: int | None,
        request_size: int | None,
    ) -> None:
        """One finished HTTP request's points (the span's context is the current one)."""
        old = _pick(attributes, self._duration_old_keys)
        if target:
            old["http.target"] = target
        new = _pick(attributes, self._duration_new_keys)
        if self.duration_old is not None:
            self.duration_old.record(max(round(seconds * 1000), 0), old)
        if self.duration_new is not None:
            self.duration_new.record(max(seconds, 0), new)
        if response_size:
            if self.response_size_old is not None:
                self.response_size_old.record(response_size, old)
            if self.response_size_new is not None:
                self.response_size_new.record(response_size, new)
        if request_size is not None:
            if self.request_size_old is not None:
                self.request_size_old.record(request_size, old)
            if self.request_size_new is not None:
                self.request_size_new.record(request_size, new)


def _routes_of(app: Any) -> Iterable[Any]:
    routes = getattr(app, "routes", None) or ()
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return list(routes)
    return list(iter_route_contexts(routes))


def _searched_route(scope: Scope) -> str | None:
    """The app's own routes matched against the request (when the scope does not say)."""
    from starlette.routing import Match, Route

    found: str | None = None
    for route in _routes_of(scope.get("app")):
        if isinstance(route, Route):
            match, _ = Route.matches(route, scope)
        else:
            match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", None) or scope.get("path"))
        if match == Match.PARTIAL:
            found = getattr(route, "path", None)
    return found


def matched_route(scope: Scope, arrived: Scope) -> str | None:
    """The template of the route the app's top-level router matched.

    Read from ``scope["route"]`` (set by the router for its match) when no mount moved
    the root path; otherwise, and when the scope holds no route (a 404, or a middleware
    that handed on a copy of the scope), the top-level routes are matched again on
    ``arrived``, a copy of the scope as the request arrived.
    """
    route = scope.get("route")
    if route is not None and scope.get("root_path", "") == arrived.get("root_path", ""):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return _searched_route(arrived)


def metric_target(scope: Mapping[str, Any]) -> str | None:
    """``http.target`` of the old-semconv duration metric: the matched route's template."""
    path_format = getattr(scope.get("route"), "path_format", None)
    if path_format:
        return f"{scope.get('root_path', '')}{path_format}"
    return None
