"""Start-up guard for ``OTEL_PROPAGATORS``, run from ``otel-distro.pth`` at interpreter start.

The OpenTelemetry API reads ``OTEL_PROPAGATORS`` when ``opentelemetry.propagate`` is
first imported, and an unknown or empty name raises there: ``opentelemetry-instrument``
then exits before the application (or any distro code) runs.  This guard, which runs
only when the variable is set, drops such names with one clear message, so the app
starts with the remaining propagators (or the default ``tracecontext,baggage``).
"""

from __future__ import annotations

import os
import sys

from otel_distro._report import internal_error
from otel_distro.config._environ import apply_overrides

__all__ = ["check"]

_BUILT_IN = {"tracecontext", "baggage"}


def _usable(name: str, known: set[str]) -> bool:
    # the API matches entry-point names exactly, except "none" (any case)
    return name in known or name.lower() == "none"


def check() -> None:
    """Repair ``OTEL_PROPAGATORS`` in this process's environment; never raises."""
    try:
        raw = os.environ.get("OTEL_PROPAGATORS")
        if raw is None:
            return
        names = [name.strip() for name in raw.split(",")]
        if all(_usable(name, _BUILT_IN) for name in names):
            return
        from importlib.metadata import entry_points

        known = _BUILT_IN | {ep.name for ep in entry_points(group="opentelemetry_propagator")}
        kept = [name for name in names if _usable(name, known)]
        if len(kept) == len(names):
            return
        repaired = ",".join(kept) or "tracecontext,baggage"
        apply_overrides({"OTEL_PROPAGATORS": repaired})
        print(
            f"otel-distro: OTEL_PROPAGATORS={raw!r} names unknown or empty propagators: "
            f"expected a comma-separated list of {', '.join(sorted(known | {'none'}))}; "
            f"using {repaired!r}",
            file=sys.stderr,
            flush=True,
        )
    except Exception:  # a start-up hook must never stop the interpreter
        internal_error("config._startup_guard.check")
