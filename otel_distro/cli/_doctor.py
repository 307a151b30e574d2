"""``otel-distro doctor``: the start-up checks, run on demand, with the effective configuration.

Every check is the one the distro runs when it starts (the same functions, the same
messages), plus what only a look from outside can tell: whether the endpoint and
Jaeger answer, and which distro, configurator and instrumentors would load.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata

import httpx

from otel_distro._report import reset_reports
from otel_distro.cli._model import printable
from otel_distro.config import VARIABLES, Settings, load_settings, report_problems
from otel_distro.config._environ import sdk_overrides
from otel_distro.config._otlp_checks import default_endpoint, endpoint_explicit
from otel_distro.config._sdk_checks import (
    CONFIGURATOR_ENTRY_POINT,
    check_configurator_selected,
    invalid_limit_overrides,
    sampler_choice,
    sdk_config_file,
)
from otel_distro.exporters.files import endpoint_reachable
from otel_distro.redaction import Redactor

__all__ = ["Diagnosis", "diagnose", "render"]

DISTRO_ENTRY_POINT = "otel_distro"
_DUPLICATING_LOG_BRIDGES = {"logging", "structlog"}  # neutralised by the distro
_MASK = "<set, hidden>"
_SECRET_OTEL = (
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
)
_SHOWN_OTEL = (
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PROPAGATORS",
    "OTEL_PYTHON_DISTRO",
    "OTEL_PYTHON_CONFIGURATOR",
    "OTEL_CONFIG_FILE",
    *_SECRET_OTEL,
)


@dataclass
class Diagnosis:
    """What ``doctor`` found: configuration lines, passed checks, problems and warnings."""

    configuration: list[tuple[str, str]] = field(default_factory=list)
    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def _startup_messages(env: Mapping[str, str]) -> tuple[Settings, list[str]]:
    """The distro's own start-up checks, their messages captured instead of printed."""
    reset_reports()
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        settings = load_settings(env)
        report_problems(settings)
        sdk_overrides(env)
        invalid_limit_overrides(env)
        sampler_choice(env)
        check_configurator_selected(env)
        sdk_config_file(env)
    reset_reports()
    lines = [
        line.removeprefix("otel-distro: ").strip() for line in captured.getvalue().splitlines()
    ]
    return settings, [line for line in lines if line]


def _shown(value: object, redactor: Redactor) -> str:
    text = ",".join(str(item) for item in value) if isinstance(value, tuple) else str(value)
    return printable(redactor.redact_text(text), 160)


def _configuration(settings: Settings, env: Mapping[str, str]) -> list[tuple[str, str]]:
    redactor = Redactor.from_settings(settings)
    rows: list[tuple[str, str]] = []
    for variable in VARIABLES:
        value = getattr(settings, variable.attr)
        if variable.secret:
            rows.append((variable.name, _MASK if value else "(not set)"))
        else:
            rows.append((variable.name, _shown(value, redactor)))
    for name in _SHOWN_OTEL:
        if name not in env:
            continue
        if name in _SECRET_OTEL:
            keys = [item.partition("=")[0].strip() for item in env[name].split(",") if item.strip()]
            rows.append(
                (name, f"headers {', '.join(printable(k, 60) for k in keys)} (values hidden)")
            )
        else:
            rows.append((name, _shown(env[name], redactor)))
    return rows


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=group))


def _dist_of(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else entry_point.value


def _loading(env: Mapping[str, str], found: Diagnosis) -> None:
    """Which distro, configurator and instrumentors ``opentelemetry-instrument`` would load."""
    distros = _entry_points("opentelemetry_distro")
    chosen = env.get("OTEL_PYTHON_DISTRO")
    if chosen is None and len(distros) > 1:
        others = ", ".join(ep.name for ep in distros if ep.name != DISTRO_ENTRY_POINT)
        found.problems.append(
            f"OTEL_PYTHON_DISTRO is not set and other distros are installed ({others}): the first "
            f"found wins; set OTEL_PYTHON_DISTRO={DISTRO_ENTRY_POINT}"
        )
    elif chosen is not None and chosen != DISTRO_ENTRY_POINT:
        found.problems.append(
            f"OTEL_PYTHON_DISTRO={printable(chosen, 60)!r} selects another distro: otel-distro "
            "does not load"
        )
    found.loads.append(
        "distros: " + ", ".join(f"{ep.name} ({_dist_of(ep)})" for ep in distros) or "distros: none"
    )
    configurators = _entry_points("opentelemetry_configurator")
    found.loads.append(
        "configurators: " + ", ".join(f"{ep.name} ({_dist_of(ep)})" for ep in configurators)
    )
    if env.get("OTEL_PYTHON_CONFIGURATOR") is None and len(configurators) > 1:
        found.problems.append(
            "OTEL_PYTHON_CONFIGURATOR is not set and several configurators are installed: set "
            f"OTEL_PYTHON_CONFIGURATOR={CONFIGURATOR_ENTRY_POINT}"
        )
    disabled = {n.strip() for n in env.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}
    instrumentors = sorted({ep.name for ep in _entry_points("opentelemetry_instrumentor")})
    active = [name for name in instrumentors if name not in disabled]
    found.loads.append("instrumentors: " + (", ".join(active) or "none"))
    bridges = sorted(_DUPLICATING_LOG_BRIDGES & set(active))
    if bridges:
        found.ok.append(
            f"log bridges {', '.join(bridges)} are installed; otel-distro skips them so each "
            "record is exported once"
        )


def _endpoint(env: Mapping[str, str], settings: Settings, found: Diagnosis) -> None:
    explicit = endpoint_explicit(env)
    endpoint = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or default_endpoint("traces", env)
    ).strip()
    shown = printable(Redactor.from_settings(settings).redact_text(endpoint), 120)
    if endpoint_reachable(endpoint, timeout=1.0):
        found.ok.append(f"OTLP endpoint {shown} answers")
    elif explicit:
        found.problems.append(
            f"OTEL_EXPORTER_OTLP_ENDPOINT={shown} does not answer: telemetry is retried, then "
            "dropped while it is down"
        )
    elif settings.file_fallback:
        found.warnings.append(
            f"nothing listens at the default endpoint {shown}: telemetry goes to OTLP-JSON files "
            f"in {printable(settings.file_fallback_dir, 80)}/ (OTEL_DISTRO_FILE_FALLBACK_DIR)"
        )
    else:
        found.problems.append(
            f"nothing listens at the default endpoint {shown} and OTEL_DISTRO_FILE_FALLBACK is "
            "off: telemetry is dropped"
        )


def _jaeger(url: str, found: Diagnosis) -> None:
    try:
        response = httpx.get(f"{url.rstrip('/')}/api/services", timeout=2.0)
        services = response.json().get("data") or [] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        services = None
    if services is None:
        found.warnings.append(f"Jaeger does not answer at {printable(url, 120)} (--jaeger URL)")
    else:
        found.ok.append(f"Jaeger answers at {printable(url, 120)} ({len(services)} service(s))")


def _service_name(env: Mapping[str, str], found: Diagnosis) -> None:
    attributes = env.get("OTEL_RESOURCE_ATTRIBUTES", "")
    named = any(item.split("=", 1)[0].strip() == "service.name" for item in attributes.split(","))
    if not env.get("OTEL_SERVICE_NAME", "").strip() and not named:
        found.warnings.append(
            "OTEL_SERVICE_NAME is not set: the service shows as unknown_service:python"
        )


def diagnose(env: Mapping[str, str] | None = None, jaeger_url: str | None = None) -> Diagnosis:
    """Run every check against ``env`` (the process environment by default)."""
    env = dict(os.environ if env is None else env)
    found = Diagnosis()
    settings, messages = _startup_messages(env)
    found.problems.extend(messages)
    found.configuration = _configuration(settings, env)
    _loading(env, found)
    _service_name(env, found)
    if settings.enable_opentelemetry:
        _endpoint(env, settings, found)
    else:
        found.warnings.append("ENABLE_OPENTELEMETRY=false: the distro exports nothing")
    if jaeger_url:
        _jaeger(jaeger_url, found)
    return found


def render(found: Diagnosis) -> str:
    """The report: configuration, what loads, then one line per check."""
    width = max((len(name) for name, _ in found.configuration), default=0)
    lines = ["configuration (secrets hidden):"]
    lines += [f"  {name:<{width}}  {value}" for name, value in found.configuration]
    lines += ["", "would load:"] + [f"  {line}" for line in found.loads] + ["", "checks:"]
    lines += [f"  ok       {line}" for line in found.ok]
    lines += [f"  warning  {line}" for line in found.warnings]
    lines += [f"  problem  {line}" for line in found.problems]
    count = len(found.problems)
    lines += ["", "healthy" if not count else f"{count} problem(s)"]
    return "\n".join(lines)
