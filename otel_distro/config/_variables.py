"""The table of every variable the distro reads: name, parser, default, help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from otel_distro.config._parsers import (
    Parser,
    float_between,
    int_between,
    one_of,
    parse_bool,
    parse_bool_or_auto,
    parse_header_name,
    parse_list,
    parse_networks,
    parse_str,
)
from otel_distro.config._patterns import parse_patterns
from otel_distro.config._signing_keys import parse_signing_keys

__all__ = ["VARIABLES", "Variable"]

T = TypeVar("T")


@dataclass(frozen=True)
class Variable(Generic[T]):
    """One environment variable the distro reads.

    ``attr`` is the :class:`~otel_distro.config.Settings` field it fills; the
    field's type is what ``parse`` returns (a test holds the two together).
    """

    name: str
    attr: str
    parse: Parser[T]
    default: T
    help: str
    secret: bool = False
    default_doc: str | None = None  # how the README shows the default


_DEFAULT_PROPAGATE_TO = (
    "localhost,127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,"
    "*.internal,*.svc.cluster.local"
)

VARIABLES: tuple[Variable[Any], ...] = (
    # MBPanel-compatible names
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
    # otel-distro's own
    Variable(
        "OTEL_DISTRO_SERVICE_VERSION",
        "service_version",
        parse_str,
        "",
        "Resource `service.version` (unless `OTEL_RESOURCE_ATTRIBUTES` sets it).",
        default_doc="(unset)",
    ),
    Variable(
        "OTEL_DISTRO_REQUEST_ID_HEADER",
        "request_id_header",
        parse_header_name,
        "X-Request-ID",
        "Response header carrying the trace id (`off` drops only this header; the app's "
        "own value wins and is recorded as `http.response.header.<name>`). "
        "A client-sent value is recorded (sanitised) as `http.request.header.<name>`, "
        "never trusted.",
    ),
    Variable(
        "OTEL_DISTRO_RESPONSE_HEADERS",
        "response_headers",
        one_of("http", "all", "off"),
        "http",
        "Response headers the distro adds (`traceresponse`, the request id, and "
        "`access-control-expose-headers` naming them on CORS requests), never over the "
        "app's own: `http` on HTTP responses, `all` also on websocket handshakes, `off` none.",
    ),
    Variable(
        "OTEL_DISTRO_ASGI_INTERNAL_SPANS",
        "asgi_internal_spans",
        parse_bool,
        False,
        "Keep the ASGI `http send`/`http receive` internal spans.",
    ),
    Variable(
        "OTEL_DISTRO_TRUSTED_PEERS",
        "trusted_peers",
        parse_networks,
        (),
        "CIDR list of peers whose inbound protected baggage keys are honoured.",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_PROTECTED_BAGGAGE_KEYS",
        "protected_baggage_keys",
        parse_list,
        (),
        "Extra baggage keys (besides `tenant.id`, `user.id`) dropped from untrusted peers.",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_MAX_BYTES",
        "baggage_max_bytes",
        int_between(0, 8192),
        8192,
        "An inbound `baggage` header longer than this is dropped whole.",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_PROPAGATE_TO",
        "baggage_propagate_to",
        parse_list,
        parse_list(_DEFAULT_PROPAGATE_TO),
        "Hosts (globs) and CIDRs that outbound baggage may be sent to; "
        "`traceparent` flows everywhere.",
        default_doc="loopback, private ranges, `*.internal`, `*.svc.cluster.local`",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_ATTRIBUTES",
        "baggage_attributes",
        parse_list,
        ("tenant.id", "user.id"),
        "Baggage keys copied onto every span and log record.",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS",
        "baggage_signing_keys",
        parse_signing_keys,
        (),
        "Shared keys `kid:secret,...` (secret >= 32 bytes): the first signs outbound "
        "protected baggage, all verify inbound signatures (see Signed baggage).",
        secret=True,
        default_doc="(empty: no signing)",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_SIGNATURE_TTL_SECONDS",
        "baggage_signature_ttl_seconds",
        int_between(1, 86400),
        300,
        "How long an outbound baggage signature stays valid.",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_REQUIRE_SIGNATURE",
        "baggage_require_signature",
        parse_bool,
        False,
        "Honour inbound protected baggage only with a valid signature, even from trusted peers.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_SECRET",
        "jwt_secret",
        parse_str,
        "",
        "HMAC secret: verified `Authorization: Bearer` tokens set the tenant.",
        secret=True,
    ),
    Variable(
        "OTEL_DISTRO_JWT_PUBLIC_KEY",
        "jwt_public_key",
        parse_str,
        "",
        "Path of a PEM public key (RS*/ES*/PS*/EdDSA) for verifying bearer tokens.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_ALGORITHMS",
        "jwt_algorithms",
        parse_list,
        (),
        "Accepted JWT algorithms.",
        default_doc="`HS256` with a secret, `RS256,ES256` with a public key",
    ),
    Variable(
        "OTEL_DISTRO_JWT_AUDIENCE",
        "jwt_audience",
        parse_str,
        "",
        "Required `aud` claim (unchecked when empty).",
    ),
    Variable(
        "OTEL_DISTRO_JWT_ISSUER",
        "jwt_issuer",
        parse_str,
        "",
        "Required `iss` claim (unchecked when empty).",
    ),
    Variable(
        "OTEL_DISTRO_JWT_TENANT_CLAIM",
        "jwt_tenant_claim",
        parse_str,
        "team_id",
        "Claim mapped to `tenant.id`.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_USER_CLAIM",
        "jwt_user_claim",
        parse_str,
        "sub",
        "Claim mapped to `user.id`.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_REQUIRE_EXP",
        "jwt_require_exp",
        parse_bool,
        False,
        "Reject bearer tokens without an `exp` claim (security event `token_missing_exp`).",
    ),
    # security events and abuse detection
    Variable(
        "OTEL_DISTRO_SECURITY_AUTO",
        "security_auto",
        parse_bool,
        True,
        "A 401 or 403 answered with no explicit security event in that request becomes one "
        "(`http_401`/`http_403`).",
    ),
    Variable(
        "OTEL_DISTRO_TRUSTED_PROXIES",
        "trusted_proxies",
        parse_networks,
        (),
        "CIDR list of reverse proxies: from these peers the client address of security events "
        "is the right-most untrusted hop of `Forwarded`/`X-Forwarded-For`.",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_ABUSE_WINDOW_SECONDS",
        "abuse_window_seconds",
        float_between(0.001, 86400.0),
        60.0,
        "Sliding window of the abuse-signal counts, in seconds.",
        default_doc="`60`",
    ),
    Variable(
        "OTEL_DISTRO_ABUSE_HOST_THRESHOLD",
        "abuse_host_threshold",
        int_between(1, 1000),
        20,
        "Violations from one client address within the window that raise `abuse_signal_detected`.",
    ),
    Variable(
        "OTEL_DISTRO_ABUSE_USER_THRESHOLD",
        "abuse_user_threshold",
        int_between(1, 1000),
        10,
        "Violations by one user within the window that raise `abuse_signal_detected`.",
    ),
    Variable(
        "OTEL_DISTRO_ABUSE_MAX_KEYS",
        "abuse_max_keys",
        int_between(1, 1_000_000),
        10000,
        "Addresses (and, separately, users) tracked at once; bounds the detector's memory.",
    ),
    Variable(
        "OTEL_DISTRO_REDACT_KEYS",
        "redact_keys",
        parse_list,
        (),
        "Extra sensitive key names (their whole value is redacted).",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_REDACT_VALUES",
        "redact_values",
        parse_patterns,
        (),
        "Extra regular expressions whose matches are redacted (commas inside `{m,n}` or "
        "`[...]` stay; patterns with nested repeats such as `(a+)+` are rejected).",
        secret=True,
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_REDACT_ALLOW_KEYS",
        "redact_allow_keys",
        parse_list,
        (),
        "Keys never redacted by key rules.",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_REDACT_PII",
        "redact_pii",
        parse_bool,
        False,
        "Also mask e-mail addresses, IP addresses and phone numbers.",
    ),
    Variable(
        "OTEL_DISTRO_REDACT_MAX_SCAN",
        "redact_max_scan",
        int_between(256, 16 * 1024 * 1024),
        65536,
        "Longest string scanned; longer values are truncated to it first.",
    ),
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
