"""Checks of the SDK's OTLP variables: exporters, protocols, endpoints and headers.

The SDK takes these as they come and then fails (an unknown exporter stops the
whole setup) or silently drops every export (a malformed endpoint).  Each
check reads an environment (``os.environ`` by default), reports each bad value
once, naming the variable and what is allowed, and returns the overrides
(see :mod:`._environ`) that replace it with a safe value.  No check writes the
environment; secrets in endpoints and headers are never echoed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from otel_distro._report import report

__all__ = [
    "DEFAULT_GRPC_ENDPOINT",
    "DEFAULT_HTTP_ENDPOINT",
    "ENDPOINT_ENV",
    "EXPORTER_ENV",
    "OTLP_NAMES",
    "SIGNALS",
    "default_endpoint",
    "endpoint_explicit",
    "exporter_names",
    "protocol",
    "valid_endpoint_overrides",
    "valid_header_overrides",
    "valid_protocol_overrides",
]

SIGNALS = ("traces", "metrics", "logs")
EXPORTER_ENV = {signal: f"OTEL_{signal.upper()}_EXPORTER" for signal in SIGNALS}
ENDPOINT_ENV = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    *(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT" for signal in SIGNALS),
)
_PROTOCOL_ENV = (
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    *(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL" for signal in SIGNALS),
)
_HEADERS_ENV = (
    "OTEL_EXPORTER_OTLP_HEADERS",
    *(f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS" for signal in SIGNALS),
)
_PROTOCOLS = ("http/protobuf", "grpc")
#: Exporter names that mean OTLP (replaced by the file exporter in the fallback).
OTLP_NAMES = ("otlp", "otlp_proto_http", "otlp_proto_grpc")
DEFAULT_HTTP_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def valid_protocol_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """An unknown OTLP protocol is reported and replaced by ``http/protobuf``."""
    env = _environ(env)
    overrides: dict[str, str | None] = {}
    for name in _PROTOCOL_ENV:
        value = env.get(name)
        if value is not None and value.strip() not in _PROTOCOLS:
            report(
                f"{name}={value!r} is not valid: expected one of {', '.join(_PROTOCOLS)}; "
                "using http/protobuf"
            )
            overrides[name] = "http/protobuf"
    return overrides


def _signal_protocol_variable(name: str) -> str:
    """The protocol variable that applies to an endpoint/headers variable."""
    for signal in SIGNALS:
        if f"_{signal.upper()}_" in name:
            return f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL"
    return "OTEL_EXPORTER_OTLP_PROTOCOL"


def _endpoint_problem(value: str, grpc: bool) -> str | None:
    """Why an OTLP endpoint cannot be used, or None when it looks usable."""
    text = value.strip()
    if any(char.isspace() or ord(char) < 0x20 for char in text):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return str(exc)
    if parts.scheme in ("http", "https"):
        return None if parts.hostname else "it has no host"
    if grpc:  # the gRPC exporter also accepts host:port
        host, _, port = text.rpartition(":")
        if host and port.isdigit():
            return None
    return "it is not an http:// or https:// URL"


def valid_endpoint_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Unset (and report) OTLP endpoint variables that no exporter could use.

    The SDK takes any string and then fails silently on every export; treated as
    unset, the default endpoint (and the file fallback) still apply.
    """
    env = _environ(env)
    overrides: dict[str, str | None] = {}
    for name in ENDPOINT_ENV:
        value = env.get(name)
        if value is None or not value.strip():
            continue
        protocol_variable = _signal_protocol_variable(name)
        chosen = env.get(protocol_variable) or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
        problem = _endpoint_problem(value, chosen.strip() == "grpc")
        if problem is None:
            continue
        shown = "<redacted>" if "@" in value else repr(value)
        report(
            f"{name}={shown} is not valid ({problem}): expected a URL such as "
            f"http://collector:4318; ignoring it"
        )
        overrides[name] = None
    return overrides


_OTLP_HEADER_ITEM = re.compile(
    r"[ \t]*[\x21\x23-\x27\x2a\x2b\x2d\x2e\x30-\x39\x41-\x5a\x5e-\x7a\x7c\x7e]+[ \t]*="
    r"[ \t]*[\x20\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*[ \t]*"
)


def valid_header_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Drop (and report once) malformed members of the OTLP headers variables.

    The SDK warns once per exporter and echoes the value, which may hold credentials;
    this says it once, names the variable, and never shows the value.
    """
    env = _environ(env)
    overrides: dict[str, str | None] = {}
    for name in _HEADERS_ENV:
        value = env.get(name)
        if value is None or not value.strip():
            continue
        members = [m for m in re.split(r"[ \t]*,[ \t]*", value) if m.strip()]
        valid = [m for m in members if _OTLP_HEADER_ITEM.fullmatch(m.strip())]
        if len(valid) == len(members):
            continue
        bad = len(members) - len(valid)
        report(
            f"{name}=<redacted> has {bad} malformed entr{'y' if bad == 1 else 'ies'}: "
            "expected comma-separated name=value pairs (values URL-encoded); ignoring "
            f"{'it' if bad == 1 else 'them'}"
        )
        overrides[name] = ",".join(valid)
    return overrides


def exporter_names(signal: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The user's exporter names for a signal, unknown names reported and dropped."""
    from importlib.metadata import entry_points

    env = _environ(env)
    variable = EXPORTER_ENV[signal]
    raw = env.get(variable, "otlp")
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names or names == ["none"]:
        return []
    known = {ep.name for ep in entry_points(group=f"opentelemetry_{signal}_exporter")} | {"otlp"}
    valid = [name for name in names if name in known]
    for name in names:
        if name not in known:
            report(
                f"{variable}={raw!r} names an unknown exporter {name!r}: expected one of "
                f"{', '.join(sorted(known | {'none'}))}; ignoring it"
            )
    return valid


def protocol(signal: str, env: Mapping[str, str] | None = None) -> str:
    """The OTLP protocol a signal's exporter uses (``http/protobuf`` unless valid ``grpc``)."""
    env = _environ(env)
    value = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    return value.strip() if value.strip() in _PROTOCOLS else "http/protobuf"


def endpoint_explicit(env: Mapping[str, str] | None = None) -> bool:
    """Whether the user set any OTLP endpoint variable."""
    env = _environ(env)
    return any(env.get(name, "").strip() for name in ENDPOINT_ENV)


def default_endpoint(signal: str, env: Mapping[str, str] | None = None) -> str:
    """Where a signal goes when no endpoint is set (127.0.0.1, not ``localhost``: maybe ::1)."""
    return DEFAULT_GRPC_ENDPOINT if protocol(signal, env) == "grpc" else DEFAULT_HTTP_ENDPOINT
