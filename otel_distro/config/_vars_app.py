"""The MBPanel-compatible variables: environment, log files, OpenTelemetry and
Sentry switches, outbound HTTP."""

from __future__ import annotations

from otel_distro.config._parsers import (
    float_between,
    int_between,
    one_of,
    parse_bool,
    parse_str,
)
from otel_distro.config._variable import Variable

__all__ = ["APP"]

APP: tuple[Variable[object], ...] = (
    Variable(
        "ENVIRONMENT",
        "environment",
        one_of("development", "staging", "production", "test"),
        "development",
        "Deployment environment: resource `deployment.environment.name`; "
        "`development` renders console logs, the others JSON lines.",
    ),
    Variable(
        "LOG_LEVEL",
        "log_level",
        one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", upper=True),
        "INFO",
        "Minimum level for structlog and standard-library logging.",
    ),
    Variable(
        "LOG_TO_FILE",
        "log_to_file",
        parse_bool,
        False,
        "Also write rendered log lines to a rotating file.",
    ),
    Variable("LOG_DIR", "log_dir", parse_str, "logs", "Folder for the log file."),
    Variable("LOG_FILE_NAME", "log_file_name", parse_str, "app.log", "Log file name."),
    Variable(
        "LOG_FILE_MAX_BYTES",
        "log_file_max_bytes",
        int_between(1),
        10 * 1024 * 1024,
        "Rotate the log file at this size.",
    ),
    Variable(
        "LOG_FILE_BACKUP_COUNT",
        "log_file_backup_count",
        int_between(0, 1000),
        5,
        "Rotated log files to keep.",
    ),
    Variable(
        "ENABLE_OPENTELEMETRY",
        "enable_opentelemetry",
        parse_bool,
        True,
        "`false` turns off all SDK export (no traces, metrics or logs leave the process).",
    ),
    Variable(
        "ENABLE_SENTRY",
        "enable_sentry",
        parse_bool,
        False,
        "Initialise Sentry (needs the `sentry` extra and `SENTRY_DSN`).",
    ),
    Variable("SENTRY_DSN", "sentry_dsn", parse_str, "", "Sentry DSN.", secret=True),
    Variable(
        "SENTRY_ENVIRONMENT",
        "sentry_environment",
        parse_str,
        "",
        "Sentry environment (defaults to `ENVIRONMENT`).",
        default_doc="`ENVIRONMENT`",
    ),
    Variable(
        "SENTRY_TRACES_SAMPLE_RATE",
        "sentry_traces_sample_rate",
        float_between(0.0, 1.0),
        0.0,
        "Sentry performance sample rate.",
    ),
    Variable(
        "OTEL_DISTRO_TRACE_URL_TEMPLATE",
        "trace_url_template",
        parse_str,
        "http://localhost:16686/trace/{trace_id}",
        "Link to one trace in the trace UI (`{trace_id}` is replaced); tagged on Sentry events.",
    ),
    Variable(
        "EXTERNAL_HTTP_ENABLE_BODY_LOGGING",
        "external_http_enable_body_logging",
        parse_bool,
        False,
        "Add the (redacted, truncated) in-memory request body, and for factory clients the "
        "already-read response body, to each `external_http_call` record; "
        "ignored when `ENVIRONMENT=production`.",
    ),
    Variable(
        "EXTERNAL_HTTP_MAX_BODY_BYTES",
        "external_http_max_body_bytes",
        int_between(0, 1024 * 1024),
        2048,
        "Largest outbound body logged, in bytes.",
    ),
    Variable(
        "EXTERNAL_HTTP_TIMEOUT_SECONDS",
        "external_http_timeout_seconds",
        float_between(0.001, 3600.0),
        10.0,
        "Timeout of `create_external_client`/`create_external_async_client` calls "
        "when none is given.",
    ),
)
