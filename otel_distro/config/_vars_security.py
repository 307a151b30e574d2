"""Security events, abuse detection and redaction rules."""

from __future__ import annotations

from otel_distro.config._parsers import (
    float_between,
    int_between,
    parse_bool,
    parse_list,
    parse_networks,
)
from otel_distro.config._patterns import parse_patterns
from otel_distro.config._variable import Variable

__all__ = ["SECURITY"]

SECURITY: tuple[Variable[object], ...] = (
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
)
