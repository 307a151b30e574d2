"""Environment -> one frozen, typed :class:`Settings`, read once per process."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_distro._report import report, reset_reports
from otel_distro.config._parsers import Invalid, Network, parse_header_name
from otel_distro.config._signing_keys import SigningKey, key_problems
from otel_distro.config._variables import VARIABLES

__all__ = ["Settings", "get_settings", "load_settings", "report_problems", "reset_settings"]

_DEFAULTS: Mapping[str, Any] = {variable.attr: variable.default for variable in VARIABLES}
_SECRETS = frozenset(variable.attr for variable in VARIABLES if variable.secret)


@dataclass(frozen=True, repr=False)
class Settings:
    """Validated configuration: one field per row of :data:`~otel_distro.config.VARIABLES`.

    Build it with :func:`load_settings` (or use :func:`get_settings`); ``Settings()``
    holds every default.  Each field's type is what its variable's parser returns,
    and its default is the table's.  ``problems`` lists the values that were
    rejected (and replaced by their defaults), one message each.
    """

    # deployment and logs (MBPanel-compatible names)
    environment: str = _DEFAULTS["environment"]
    log_level: str = _DEFAULTS["log_level"]
    log_to_file: bool = _DEFAULTS["log_to_file"]
    log_dir: str = _DEFAULTS["log_dir"]
    log_file_name: str = _DEFAULTS["log_file_name"]
    log_file_max_bytes: int = _DEFAULTS["log_file_max_bytes"]
    log_file_backup_count: int = _DEFAULTS["log_file_backup_count"]
    enable_opentelemetry: bool = _DEFAULTS["enable_opentelemetry"]
    # Sentry
    enable_sentry: bool = _DEFAULTS["enable_sentry"]
    sentry_dsn: str = _DEFAULTS["sentry_dsn"]
    sentry_environment: str = _DEFAULTS["sentry_environment"]
    sentry_traces_sample_rate: float = _DEFAULTS["sentry_traces_sample_rate"]
    trace_url_template: str = _DEFAULTS["trace_url_template"]
    # outbound HTTP records
    external_http_enable_body_logging: bool = _DEFAULTS["external_http_enable_body_logging"]
    external_http_max_body_bytes: int = _DEFAULTS["external_http_max_body_bytes"]
    external_http_timeout_seconds: float = _DEFAULTS["external_http_timeout_seconds"]
    # resource, request id, ASGI
    service_version: str = _DEFAULTS["service_version"]
    request_id_header: str = _DEFAULTS["request_id_header"]
    response_headers: str = _DEFAULTS["response_headers"]
    asgi_internal_spans: bool = _DEFAULTS["asgi_internal_spans"]
    server_middleware: str = _DEFAULTS["server_middleware"]
    # baggage
    trusted_peers: tuple[Network, ...] = _DEFAULTS["trusted_peers"]
    protected_baggage_keys: tuple[str, ...] = _DEFAULTS["protected_baggage_keys"]
    baggage_max_bytes: int = _DEFAULTS["baggage_max_bytes"]
    baggage_propagate_to: tuple[str, ...] = _DEFAULTS["baggage_propagate_to"]
    baggage_attributes: tuple[str, ...] = _DEFAULTS["baggage_attributes"]
    baggage_signing_keys: tuple[SigningKey, ...] = _DEFAULTS["baggage_signing_keys"]
    baggage_signature_ttl_seconds: int = _DEFAULTS["baggage_signature_ttl_seconds"]
    baggage_require_signature: bool = _DEFAULTS["baggage_require_signature"]
    # bearer tokens
    jwt_secret: str = _DEFAULTS["jwt_secret"]
    jwt_public_key: str = _DEFAULTS["jwt_public_key"]
    jwt_algorithms: tuple[str, ...] = _DEFAULTS["jwt_algorithms"]
    jwt_audience: str = _DEFAULTS["jwt_audience"]
    jwt_issuer: str = _DEFAULTS["jwt_issuer"]
    jwt_tenant_claim: str = _DEFAULTS["jwt_tenant_claim"]
    jwt_user_claim: str = _DEFAULTS["jwt_user_claim"]
    jwt_require_exp: bool = _DEFAULTS["jwt_require_exp"]
    security_auto: bool = _DEFAULTS["security_auto"]
    trusted_proxies: tuple[Network, ...] = _DEFAULTS["trusted_proxies"]
    abuse_window_seconds: float = _DEFAULTS["abuse_window_seconds"]
    abuse_host_threshold: int = _DEFAULTS["abuse_host_threshold"]
    abuse_user_threshold: int = _DEFAULTS["abuse_user_threshold"]
    abuse_max_keys: int = _DEFAULTS["abuse_max_keys"]
    # redaction
    redact_keys: tuple[str, ...] = _DEFAULTS["redact_keys"]
    redact_values: tuple[str, ...] = _DEFAULTS["redact_values"]
    redact_allow_keys: tuple[str, ...] = _DEFAULTS["redact_allow_keys"]
    redact_pii: bool = _DEFAULTS["redact_pii"]
    redact_max_scan: int = _DEFAULTS["redact_max_scan"]
    # log format, access log, shutdown, file fallback
    log_format: str = _DEFAULTS["log_format"]
    access_log: bool = _DEFAULTS["access_log"]
    access_log_excluded_paths: tuple[str, ...] = _DEFAULTS["access_log_excluded_paths"]
    flush_on_sigterm: bool = _DEFAULTS["flush_on_sigterm"]
    shutdown_timeout_seconds: float = _DEFAULTS["shutdown_timeout_seconds"]
    inbound_trace_context: str = _DEFAULTS["inbound_trace_context"]
    file_fallback: bool = _DEFAULTS["file_fallback"]
    file_fallback_dir: str = _DEFAULTS["file_fallback_dir"]
    sse_keepalive_seconds: float = _DEFAULTS["sse_keepalive_seconds"]
    sse_slow_subscriber: str = _DEFAULTS["sse_slow_subscriber"]
    sse_slow_subscriber_seconds: float = _DEFAULTS["sse_slow_subscriber_seconds"]
    log_stream: str = _DEFAULTS["log_stream"]
    logs_as_span_events: str = _DEFAULTS["logs_as_span_events"]
    raise_internal_errors: bool = _DEFAULTS["raise_internal_errors"]

    problems: tuple[str, ...] = ()
    # names of the variables the environment set to a valid value (not defaulted)
    explicit: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'<redacted>' if f.name in _SECRETS and value else repr(value)}"
            for f in dataclasses.fields(self)
            for value in (getattr(self, f.name),)
        )
        return f"Settings({shown})"

    # derived values ---------------------------------------------------------

    @property
    def effective_log_format(self) -> str:
        """``json`` or ``console``: ``auto`` is console in development, JSON elsewhere."""
        if self.log_format != "auto":
            return self.log_format
        return "console" if self.environment == "development" else "json"

    @property
    def effective_logs_as_span_events(self) -> bool:
        """Whether log records become span events: ``auto`` is on only in development."""
        if self.logs_as_span_events == "auto":
            return self.environment == "development"
        return self.logs_as_span_events == "true"

    @property
    def effective_jwt_algorithms(self) -> tuple[str, ...]:
        """The configured algorithms, else those that fit the kind of key."""
        if self.jwt_algorithms:
            return self.jwt_algorithms
        if self.jwt_secret:
            return ("HS256",)
        return ("RS256", "ES256")

    @property
    def protected_keys(self) -> frozenset[str]:
        """Baggage keys honoured only from trusted peers."""
        return frozenset(("tenant.id", "user.id", *self.protected_baggage_keys))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse every variable of :data:`VARIABLES`; bad values fall back to defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    explicit: set[str] = set()
    for var in VARIABLES:
        raw = env.get(var.name)
        if raw is None or (raw.strip() == "" and var.parse is not parse_header_name):
            values[var.attr] = var.default
            continue
        try:
            values[var.attr] = var.parse(raw)
            explicit.add(var.name)
        except Invalid as exc:
            shown = "<redacted>" if var.secret else raw
            default = var.default_doc or repr(var.default)
            problems.append(
                f"{var.name}={shown!r} is not valid: expected {exc}; using the default {default}"
            )
            values[var.attr] = var.default
    problems.extend(key_problems(values["baggage_signing_keys"]))
    if not values["sentry_environment"]:
        values["sentry_environment"] = values["environment"]
    return Settings(**values, problems=tuple(problems), explicit=frozenset(explicit))


_settings: Settings | None = None


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
    reset_reports()


def report_problems(settings: Settings) -> None:
    """Print each configuration problem once, on stderr, prefixed ``otel-distro:``."""
    for problem in settings.problems:
        report(problem)
