"""One access-log record per served request, built from the finished SERVER span.

:class:`AccessLogSpanProcessor` reads the attributes the contrib ASGI/FastAPI
instrumentation sets (old and new HTTP semantic conventions) and logs through
the distro's pipeline, so the record has the same format, redaction and OTel
emission as any other log, with the trace and span id of that server span.
Level: INFO for 1xx-3xx, WARNING for 4xx, ERROR for 5xx or an errored span.
Exported always; rendered as a line only while the application has not configured
the root logger itself (its handlers are its own output).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanKind, StatusCode, set_span_in_context

from otel_distro._report import internal_error
from otel_distro._state import slot
from otel_distro.config import Settings, get_settings
from otel_distro.logging._pipeline import LEVELS
from otel_distro.logging._structlog import Holder

__all__ = ["ACCESS_LOGGER", "EVENT", "AccessLogSpanProcessor", "is_active", "is_excluded"]

ACCESS_LOGGER = "otel_distro.access"
EVENT = "http_request"

# output key -> span attribute names, new semantic conventions first
_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("http.request.method", ("http.request.method", "http.method")),
    ("http.route", ("http.route",)),
    ("url.path", ("url.path", "http.target")),
    ("http.response.status_code", ("http.response.status_code", "http.status_code")),
    ("client.address", ("client.address", "net.peer.ip")),
    ("client.port", ("client.port", "net.peer.port")),
)


_active = slot("processors.access_log.active", bool)


def is_active() -> bool:
    """True once an enabled :class:`AccessLogSpanProcessor` exists (uvicorn's own
    access log is then redundant and silenced)."""
    return _active.value


def is_excluded(path: str | None, patterns: tuple[str, ...]) -> bool:
    """True if *path* equals a pattern, or starts with one ending in ``*``."""
    if not path:
        return False
    for pattern in patterns:
        if pattern.endswith("*"):
            if path.startswith(pattern[:-1]):
                return True
        elif path == pattern:
            return True
    return False


def _first(attributes: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = attributes.get(name)
        if value is not None:
            return value
    return None


def _level(status: Any, errored: bool) -> tuple[Any, ...]:
    if isinstance(status, int) and not isinstance(status, bool):
        if status >= 500:
            return LEVELS["error"]
        if status >= 400:
            return LEVELS["warning"]
        return LEVELS["info"]
    return LEVELS["error"] if errored else LEVELS["info"]


class AccessLogSpanProcessor(SpanProcessor):
    """Logs each ended SERVER span as one access-log record (never raises)."""

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings if settings is not None else get_settings()
        self._enabled = bool(settings.access_log)
        _active.value = _active.value or self._enabled
        self._excluded: tuple[str, ...] = tuple(settings.access_log_excluded_paths)
        self._context_keys: tuple[str, ...] = tuple(settings.baggage_attributes)

    def on_end(self, span: ReadableSpan) -> None:
        if not self._enabled or span.kind is not SpanKind.SERVER:
            return
        try:
            self._log(span)
        except Exception:  # the access log must never break a request
            internal_error("processors.access_log")

    def _log(self, span: ReadableSpan) -> None:
        pipeline = Holder.pipeline
        if pipeline is None:
            return
        attributes = span.attributes or {}
        values: dict[str, Any] = {}
        for key, names in _FIELDS:
            value = _first(attributes, names)
            if value is not None:
                values[key] = value
        if is_excluded(values.get("url.path"), self._excluded) or is_excluded(
            values.get("http.route"), self._excluded
        ):
            return
        status = values.get("http.response.status_code")
        level = _level(status, span.status.status_code is StatusCode.ERROR)
        if level[0] < pipeline.min_level:
            return
        if span.start_time is not None and span.end_time is not None:
            values["duration_ms"] = round((span.end_time - span.start_time) / 1e6, 3)
        for key in self._context_keys:
            value = attributes.get(key)
            if value is not None:
                values[key] = value
        context: Context | None = None
        span_context = span.get_span_context()
        if span_context is not None and span_context.is_valid:
            context = set_span_in_context(NonRecordingSpan(span_context))
        from otel_distro.logging import own_lines

        pipeline.capture(
            level,
            ACCESS_LOGGER,
            EVENT,
            values,
            ts_ns=span.end_time,
            context=context,
            write=own_lines(),
        )

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
