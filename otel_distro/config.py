"""Environment -> one frozen :class:`Settings`, read once and validated.

Every variable the distro reads is a row of :data:`VARIABLES` (name, parser,
default, help).  The README table is checked against that table by a test.
A bad value never raises: it is reported once (naming the variable, the value
and what is allowed) and the safe default is used instead.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "VARIABLES",
    "Settings",
    "Variable",
    "get_settings",
    "load_settings",
    "reset_settings",
    "variables_markdown",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Parser = Callable[[str], Any]


class _Invalid(ValueError):
    """A value a parser rejects; the message says what is allowed."""


# --- parsers ---------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _Invalid("one of true, false, 1, 0, yes, no, on, off")


def int_between(low: int, high: int | None = None) -> Parser:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            upper = f" and <= {high}" if high is not None else ""
            raise _Invalid(f"an integer >= {low}{upper}")
        return value

    return parse


def float_between(low: float, high: float) -> Parser:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            value = float("nan")
        if not (low <= value <= high):
            raise _Invalid(f"a number from {low} to {high}")
        return value

    return parse


def one_of(*choices: str, upper: bool = False) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in choices:
            raise _Invalid("one of " + ", ".join(choices))
        return value

    return parse


def parse_str(raw: str) -> str:
    return raw.strip()


def parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_networks(raw: str) -> tuple[Network, ...]:
    networks: list[Network] = []
    for item in parse_list(raw):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise _Invalid(
                f"a comma-separated list of IP addresses or CIDR blocks ({item!r} is not one)"
            ) from None
    return tuple(networks)


def _nested_unbounded_repeat(pattern: str) -> bool:
    """Whether a repeat that is unbounded contains another repeat (``(a+)+``, ``(a|a)*``...).

    Such patterns can backtrack catastrophically; redaction runs them on untrusted text.
    """
    import importlib

    try:  # the parser moved in Python 3.11; sre_parse is deprecated there
        constants: Any = importlib.import_module("re._constants")
        parser: Any = importlib.import_module("re._parser")
    except ImportError:
        constants = importlib.import_module("sre_constants")
        parser = importlib.import_module("sre_parse")

    repeats = (constants.MAX_REPEAT, constants.MIN_REPEAT)

    def walk(items: Any, inside_unbounded: bool) -> bool:
        for op, arg in items:
            if op in repeats:
                _low, high, sub = arg
                unbounded = high == constants.MAXREPEAT or high > 100
                if inside_unbounded and (unbounded or high > 1):
                    return True
                if walk(sub, inside_unbounded or unbounded):
                    return True
            elif op == constants.SUBPATTERN:
                if walk(arg[-1], inside_unbounded):
                    return True
            elif op == constants.BRANCH:
                if any(walk(branch, inside_unbounded) for branch in arg[1]):
                    return True
            elif op in (constants.ASSERT, constants.ASSERT_NOT) and walk(arg[1], inside_unbounded):
                return True
        return False

    return walk(parser.parse(pattern).data, False)


def split_patterns(raw: str) -> list[str]:
    """Split at commas outside brackets, braces, parentheses and escapes (``a{1,3}`` stays)."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    in_class = escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def parse_patterns(raw: str) -> tuple[str, ...]:
    """Comma-separated regular expressions; each must compile, not match '' and be linear-safe."""
    patterns: list[str] = []
    for item in split_patterns(raw):
        try:
            compiled = re.compile(item)
        except re.error as exc:
            raise _Invalid(f"comma-separated regular expressions ({item!r}: {exc})") from None
        if compiled.search("") is not None:
            raise _Invalid(
                f"comma-separated regular expressions that never match the empty string"
                f" ({item!r} does)"
            )
        if _nested_unbounded_repeat(item):
            raise _Invalid(
                f"comma-separated regular expressions without nested repeats such as (a+)+"
                f" ({item!r} could backtrack catastrophically)"
            )
        patterns.append(item)
    return tuple(patterns)


# Headers the request-id header must not be: its client-sent value is recorded on the
# server span, and the trace id is written under its name into every response.
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "host",
        "location",
        "connection",
        "keep-alive",
        "upgrade",
        "transfer-encoding",
        "content-length",
        "content-type",
        "content-encoding",
        "www-authenticate",
        "baggage",
        "traceparent",
        "tracestate",
        "traceresponse",
        "access-control-expose-headers",
        "access-control-allow-origin",
        "access-control-allow-credentials",
    }
)


def parse_header_name(raw: str) -> str:
    value = raw.strip()
    if value.lower() in {"", "off", "none", "false", "0"}:
        return ""
    if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}", value):
        raise _Invalid("an HTTP header name (token characters, at most 64), or 'off'")
    if value.lower() in _RESERVED_HEADERS:
        raise _Invalid(
            "an HTTP header name that is not a credential, cookie, framing, CORS or "
            "trace-context header, or 'off'"
        )
    return value


# --- the table ---------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """One environment variable the distro reads."""

    name: str
    attr: str
    parse: Parser
    default: Any
    help: str
    secret: bool = False
    default_doc: str | None = None  # how the README shows the default


_DEFAULT_PROPAGATE_TO = (
    "localhost,127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,"
    "*.internal,*.svc.cluster.local"
)

VARIABLES: tuple[Variable, ...] = (
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
        "EXTERNAL_HTTP_ENABLE_BODY_LOGGING",
        "external_http_enable_body_logging",
        parse_bool,
        False,
        "Add the (redacted, truncated) in-memory request body to each `external_http_call` record.",
    ),
    Variable(
        "EXTERNAL_HTTP_MAX_BODY_BYTES",
        "external_http_max_body_bytes",
        int_between(0, 1024 * 1024),
        2048,
        "Largest outbound body logged, in bytes.",
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
        "Response header carrying the trace id (`off` disables). "
        "A client-sent value is recorded (sanitised) as `http.request.header.<name>`, "
        "never trusted.",
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
        "Turn SIGTERM into a normal exit so the final export runs (only if the app has no "
        "SIGTERM handler of its own).",
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
)


# --- the settings object -----------------------------------------------------


def _settings_fields() -> dict[str, Any]:
    return {v.attr: v.default for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """Validated configuration; build with :func:`load_settings`."""

    values: Mapping[str, Any] = field(default_factory=_settings_fields)
    problems: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        shown = {
            v.attr: ("<redacted>" if v.secret and self.values[v.attr] else self.values[v.attr])
            for v in VARIABLES
        }
        return f"Settings({shown!r})"

    # derived values ---------------------------------------------------------

    @property
    def effective_log_format(self) -> str:
        if self.values["log_format"] != "auto":
            return str(self.values["log_format"])
        return "console" if self.values["environment"] == "development" else "json"

    @property
    def effective_jwt_algorithms(self) -> tuple[str, ...]:
        algorithms: tuple[str, ...] = self.values["jwt_algorithms"]
        if algorithms:
            return algorithms
        if self.values["jwt_secret"]:
            return ("HS256",)
        return ("RS256", "ES256")

    @property
    def protected_keys(self) -> frozenset[str]:
        return frozenset(("tenant.id", "user.id", *self.values["protected_baggage_keys"]))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse every variable of :data:`VARIABLES`; bad values fall back to defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for var in VARIABLES:
        raw = env.get(var.name)
        if raw is None or (raw.strip() == "" and var.parse is not parse_header_name):
            values[var.attr] = var.default
            continue
        try:
            values[var.attr] = var.parse(raw)
        except _Invalid as exc:
            shown = "<redacted>" if var.secret else raw
            default = var.default_doc or repr(var.default)
            problems.append(
                f"{var.name}={shown!r} is not valid: expected {exc}; using the default {default}"
            )
            values[var.attr] = var.default
    if not values["sentry_environment"]:
        values["sentry_environment"] = values["environment"]
    return Settings(values=values, problems=tuple(problems))


_settings: Settings | None = None
_reported: set[str] = set()


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _settings
    if _settings is None:
        _settings = load_settings()
        report_problems(_settings)
    return _settings


def reset_settings() -> None:
    """Forget the cached settings (tests, or after changing the environment)."""
    global _settings
    _settings = None
    _reported.clear()


def report_problems(settings: Settings) -> None:
    """Print each configuration problem once, on stderr, prefixed ``otel-distro:``."""
    for problem in settings.problems:
        if problem not in _reported:
            _reported.add(problem)
            print(f"otel-distro: {problem}", file=sys.stderr, flush=True)


def report(message: str) -> None:
    """Print one startup message once per process (never raises)."""
    if message in _reported:
        return
    _reported.add(message)
    try:
        print(f"otel-distro: {message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: S110 - a closed stderr must not break the app
        pass


def _default_text(variable: Variable) -> str:
    if variable.default_doc is not None:
        return variable.default_doc
    default = variable.default
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, tuple):
        return f"`{','.join(str(item) for item in default)}`" if default else "(empty)"
    if default == "":
        return "(empty)"
    return f"`{default}`"


def variables_markdown() -> str:
    """The README's table of variables, generated from :data:`VARIABLES`."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for variable in VARIABLES:
        lines.append(f"| `{variable.name}` | {_default_text(variable)} | {variable.help} |")
    return "\n".join(lines)
