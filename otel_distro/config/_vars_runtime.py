"""Process life: SIGTERM, inbound trace context, shutdown, server-sent events,
file fallback, internal errors."""

from __future__ import annotations

from otel_distro.config._parsers import (
    float_between,
    one_of,
    parse_bool,
    parse_str,
)
from otel_distro.config._variable import Variable

__all__ = ["RUNTIME"]

RUNTIME: tuple[Variable[object], ...] = (
    Variable(
        "OTEL_DISTRO_FLUSH_ON_SIGTERM",
        "flush_on_sigterm",
        parse_bool,
        True,
        "On SIGTERM, run the bounded final export, then end by SIGTERM as without the distro "
        "(only if the app has no SIGTERM handler of its own).",
    ),
    Variable(
        "OTEL_DISTRO_INBOUND_TRACE_CONTEXT",
        "inbound_trace_context",
        one_of("all", "trusted_peers"),
        "all",
        "`trusted_peers` (public-facing services): a request from a peer outside "
        "`OTEL_DISTRO_TRUSTED_PEERS` starts a new trace linked to the client's `traceparent` "
        "instead of adopting it.",
    ),
    Variable(
        "OTEL_DISTRO_SHUTDOWN_TIMEOUT_SECONDS",
        "shutdown_timeout_seconds",
        float_between(0.0, 600.0),
        5.0,
        "Longest wait for the final export at exit (SIGTERM, SIGINT, end of lifespan), however "
        "the collector behaves; what is left is counted in one line.",
    ),
    Variable(
        "OTEL_DISTRO_SSE_KEEPALIVE_SECONDS",
        "sse_keepalive_seconds",
        float_between(0.1, 3600.0),
        15.0,
        "Idle SSE streams get a keep-alive comment this often.",
    ),
    Variable(
        "OTEL_DISTRO_SSE_SLOW_SUBSCRIBER",
        "sse_slow_subscriber",
        one_of("drop", "disconnect"),
        "drop",
        "What happens to an SSE subscriber whose queue is full: `drop` its messages, or "
        "also `disconnect` it once a backpressure episode lasts "
        "`OTEL_DISTRO_SSE_SLOW_SUBSCRIBER_SECONDS`.",
    ),
    Variable(
        "OTEL_DISTRO_SSE_SLOW_SUBSCRIBER_SECONDS",
        "sse_slow_subscriber_seconds",
        float_between(0.0, 86400.0),
        30.0,
        "Backpressure episode length after which `disconnect` closes a slow subscriber.",
    ),
    Variable(
        "OTEL_DISTRO_FILE_FALLBACK",
        "file_fallback",
        parse_bool,
        True,
        "When the OTLP endpoint was not set and is unreachable at startup, "
        "write OTLP JSON lines to `OTEL_DISTRO_FILE_FALLBACK_DIR`.",
    ),
    Variable(
        "OTEL_DISTRO_FILE_FALLBACK_DIR",
        "file_fallback_dir",
        parse_str,
        "telemetry",
        "Folder for the file fallback.",
    ),
    Variable(
        "OTEL_DISTRO_RAISE_INTERNAL_ERRORS",
        "raise_internal_errors",
        parse_bool,
        False,
        "Re-raise the distro's own internal errors instead of counting them "
        "(`otel_distro.internal_errors`) and going on with less telemetry; for test suites, "
        "never in production.",
    ),
)
