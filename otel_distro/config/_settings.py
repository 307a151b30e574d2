"""Environment -> one frozen :class:`Settings`, read once per process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_distro._report import report, reset_reports
from otel_distro.config._parsers import Invalid, parse_header_name
from otel_distro.config._variables import VARIABLES

__all__ = ["Settings", "get_settings", "load_settings", "report_problems", "reset_settings"]


# --- the settings object -----------------------------------------------------


def _settings_fields() -> dict[str, Any]:
    return {v.attr: v.default for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """Validated configuration; build with :func:`load_settings`."""

    values: Mapping[str, Any] = field(default_factory=_settings_fields)
    problems: tuple[str, ...] = ()
    # names of the variables the environment set to a valid value (not defaulted)
    explicit: frozenset[str] = frozenset()

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
    if not values["sentry_environment"]:
        values["sentry_environment"] = values["environment"]
    return Settings(values=values, problems=tuple(problems), explicit=frozenset(explicit))


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
