"""Log output: format, span events, stream, access log."""

from __future__ import annotations

from otel_distro.config._parsers import (
    one_of,
    parse_bool,
    parse_bool_or_auto,
    parse_list,
)
from otel_distro.config._variable import Variable

__all__ = ["LOGS"]

LOGS: tuple[Variable[object], ...] = (
    Variable(
        "OTEL_DISTRO_LOG_FORMAT",
        "log_format",
        one_of("auto", "json", "console"),
        "auto",
        "Rendered log format; `auto` is console in development, JSON elsewhere.",
    ),
    Variable(
        "OTEL_DISTRO_LOGS_AS_SPAN_EVENTS",
        "logs_as_span_events",
        parse_bool_or_auto,
        "auto",
        "Also add each log record written inside a span to that span as a redacted, "
        "bounded `log` event (so a trace view shows the request's log lines); `auto` is on "
        "when `ENVIRONMENT=development`, off elsewhere.",
    ),
    Variable(
        "OTEL_DISTRO_LOG_STREAM",
        "log_stream",
        one_of("stdout", "stderr"),
        "stdout",
        "Stream for the distro's rendered log lines. Under `opentelemetry-instrument` a "
        "process that is not a known server (a CLI) gets lines only when this, `LOG_LEVEL` "
        "or `LOG_TO_FILE` is set.",
    ),
    Variable(
        "OTEL_DISTRO_ACCESS_LOG",
        "access_log",
        parse_bool,
        True,
        "One access-log record per request.",
    ),
    Variable(
        "OTEL_DISTRO_ACCESS_LOG_EXCLUDED_PATHS",
        "access_log_excluded_paths",
        parse_list,
        ("/health", "/healthz", "/ready", "/readyz", "/livez"),
        "Paths (exact, or prefix ending in `*`) without an access-log record.",
    ),
)
