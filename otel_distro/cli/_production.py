"""``otel-distro doctor --production``: the deployment checklist, one pass/fail line each.

Each check reads the same settings the distro starts with (``load_settings``) and the
OpenTelemetry variables; only the endpoint check looks outside (a TCP connection).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from otel_distro.cli._model import printable
from otel_distro.config import Settings, load_settings
from otel_distro.config._otlp_checks import EXPORTER_ENV, OTLP_NAMES, SIGNALS, default_endpoint
from otel_distro.redaction import Redactor

__all__ = ["Check", "production_checks", "render_checks", "render_json"]


@dataclass(frozen=True)
class Check:
    """One checklist item: its name, whether it passed, and what was found."""

    name: str
    passed: bool
    detail: str


def _exports_otlp(signal: str, env: Mapping[str, str]) -> bool:
    """Whether the signal's exporter list (``OTEL_<SIGNAL>_EXPORTER``, default otlp) has OTLP."""
    names = env.get(EXPORTER_ENV[signal], "otlp").split(",")
    return any(name.strip() in OTLP_NAMES for name in names)


def _endpoints(env: Mapping[str, str]) -> dict[str, list[str]]:
    """Where each signal exporting over OTLP goes (per-signal variable, general variable,
    default): endpoint -> the signals sent there."""
    found: dict[str, list[str]] = {}
    for signal in SIGNALS:
        if not _exports_otlp(signal, env):
            continue
        endpoint = (
            env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
            or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or default_endpoint(signal, env)
        ).strip()
        found.setdefault(endpoint, []).append(signal)
    return found


def _plaintext(endpoint: str, signals: list[str], env: Mapping[str, str]) -> bool:
    """Whether an exporter sends to ``endpoint`` without TLS, as the SDK's exporters decide:
    ``https://`` is TLS and ``http://`` is not, whatever ``*_INSECURE`` says; a bare
    ``host:port`` (gRPC only) is TLS unless ``OTEL_EXPORTER_OTLP[_<SIGNAL>]_INSECURE=true``."""
    scheme = endpoint.split("://", 1)[0].lower() if "://" in endpoint else ""
    if scheme in ("http", "https"):
        return scheme == "http"
    for signal in signals:
        insecure = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_INSECURE") or env.get(
            "OTEL_EXPORTER_OTLP_INSECURE", ""
        )
        if insecure.strip().lower() == "true":
            return True
    return False


def _shown(endpoints: list[str], redactor: Redactor) -> str:
    """Endpoints for a report line, through the redactor (credentials in a URL hidden)."""
    return ", ".join(printable(redactor.redact_text(e), 160) for e in endpoints)


def _as_url(endpoint: str) -> str:
    return endpoint if "://" in endpoint else f"grpc://{endpoint}"


def _loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _log_file(settings: Settings) -> Check:
    name = "log file writable"
    if not settings.log_to_file:
        return Check(name, True, "LOG_TO_FILE is off")
    folder = os.path.abspath(settings.log_dir)
    problem = _unwritable(folder, settings.log_file_name)
    if problem:
        return Check(name, False, f"LOG_DIR={settings.log_dir!r} is not writable ({problem})")
    if settings.log_file_max_bytes <= 0 or settings.log_file_backup_count <= 0:
        return Check(
            name,
            False,
            "LOG_TO_FILE=true without rotation "
            "(set LOG_FILE_MAX_BYTES and LOG_FILE_BACKUP_COUNT above 0)",
        )
    return Check(name, True, f"{folder} (rotated at {settings.log_file_max_bytes} bytes)")


def _unwritable(folder: str, file_name: str) -> str | None:
    """Why the app could not create and append to ``folder/file_name``, or None.

    A real write probe (a temporary file, removed at once) in the nearest existing folder:
    permission bits say nothing for root or on a read-only mount.
    """
    probe = folder
    while not os.path.lexists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        return f"{probe} is not a folder"
    target = os.path.join(folder, file_name)
    try:
        if os.path.lexists(target):
            with open(target, "a", encoding="utf-8"):
                pass
        else:
            with tempfile.TemporaryFile(dir=probe):
                pass
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return None


def _endpoint_checks(env: Mapping[str, str], redactor: Redactor) -> list[Check]:
    from otel_distro.exporters.files import endpoint_reachable

    endpoints = _endpoints(env)
    if not endpoints:
        detail = "no signal exports over OTLP (OTEL_*_EXPORTER)"
        return [
            Check("OTLP endpoint answers", True, detail),
            Check("TLS for non-loopback endpoints", True, detail),
        ]
    down = [e for e in endpoints if not endpoint_reachable(e, timeout=1.0)]
    answers = Check(
        "OTLP endpoint answers",
        not down,
        f"{_shown(down, redactor)} does not answer" if down else _shown(list(endpoints), redactor),
    )
    plain = [
        endpoint
        for endpoint, signals in endpoints.items()
        if _plaintext(endpoint, signals, env)
        and not _loopback(urlsplit(_as_url(endpoint)).hostname or "")
    ]
    tls = Check(
        "TLS for non-loopback endpoints",
        not plain,
        f"{_shown(plain, redactor)} is sent without TLS"
        if plain
        else "every remote endpoint uses TLS",
    )
    return [answers, tls]


def production_checks(
    env: Mapping[str, str] | None = None, *, require_sentry: bool = False
) -> list[Check]:
    """The production checklist for ``env`` (default: this process's environment)."""
    env = dict(os.environ if env is None else env)
    settings = load_settings(env)
    signing = bool(settings.baggage_signing_keys) or settings.baggage_require_signature
    sampler = env.get("OTEL_TRACES_SAMPLER", "").strip()
    config_file = env.get("OTEL_CONFIG_FILE", "").strip()
    sdk_disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    checks = [
        Check(
            "settings valid",
            not settings.problems,
            "; ".join(settings.problems) if settings.problems else "every value is allowed",
        ),
        Check(
            "telemetry enabled",
            settings.enable_opentelemetry and not sdk_disabled,
            "OTEL_SDK_DISABLED=true: nothing is exported"
            if sdk_disabled
            else f"ENABLE_OPENTELEMETRY={str(settings.enable_opentelemetry).lower()}",
        ),
        Check(
            "internal errors contained",
            not settings.raise_internal_errors,
            "OTEL_DISTRO_RAISE_INTERNAL_ERRORS=true: a fault in the distro raises into the app"
            if settings.raise_internal_errors
            else "the distro's own faults are counted, never raised",
        ),
        Check(
            "ENVIRONMENT=production",
            settings.environment == "production",
            f"ENVIRONMENT={settings.environment!r}",
        ),
        Check(
            "LOG_LEVEL not DEBUG",
            settings.log_level.upper() != "DEBUG",
            f"LOG_LEVEL={settings.log_level!r}",
        ),
        _log_file(settings),
        Check(
            "body preview off",
            not settings.external_http_enable_body_logging,
            "EXTERNAL_HTTP_ENABLE_BODY_LOGGING="
            f"{str(settings.external_http_enable_body_logging).lower()}",
        ),
        _sentry(settings, require_sentry),
        *_endpoint_checks(env, Redactor.from_settings(settings)),
        Check(
            "sampling configured",
            bool(sampler),
            f"OTEL_TRACES_SAMPLER={sampler!r}" if sampler else "OTEL_TRACES_SAMPLER is not set",
        ),
        Check(
            "no OTEL_CONFIG_FILE bypassing redaction",
            not config_file,
            f"OTEL_CONFIG_FILE={config_file!r} builds the pipeline outside the distro"
            if config_file
            else "OTEL_CONFIG_FILE is not set",
        ),
        Check(
            "signing key for signed baggage",
            not settings.baggage_require_signature or bool(settings.baggage_signing_keys),
            ("a signing key is set" if settings.baggage_signing_keys else "no key is set")
            if signing
            else "baggage signing is not in use",
        ),
    ]
    return checks


def _sentry(settings: Settings, required: bool) -> Check:
    name = "Sentry enabled with a DSN"
    if settings.enable_sentry and not settings.sentry_dsn:
        return Check(name, False, "ENABLE_SENTRY=true but SENTRY_DSN is empty")
    if required and not settings.enable_sentry:
        return Check(name, False, "--require-sentry: ENABLE_SENTRY is not true")
    if settings.enable_sentry:
        return Check(name, True, "SENTRY_DSN is set")
    return Check(name, True, "Sentry is off (not required)")


def render_checks(checks: list[Check]) -> str:
    """One ``PASS``/``FAIL`` line per check, then a summary line."""
    lines = [f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.detail}" for c in checks]
    failed = [c.name for c in checks if not c.passed]
    lines.append(
        f"{len(failed)} of {len(checks)} checks failed" if failed else "ready for production"
    )
    return "\n".join(lines)


def render_json(checks: list[Check]) -> str:
    """The checks as one JSON object (``ok`` and ``checks``), for CI pipelines."""
    return json.dumps(
        {"ok": all(c.passed for c in checks), "checks": [asdict(c) for c in checks]}, indent=2
    )
