"""Checks of the SDK's other variables: batching, limits, sampler, id generator, propagators.

Each of these, set wrong, makes the SDK raise while it sets itself up (or when
it is imported), so one tuning value would cost all telemetry.  Each check
reads an environment (``os.environ`` by default), reports a bad value once,
naming the variable and what is allowed, and returns the overrides (see
:mod:`._environ`) or the corrected value; none writes the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from otel_distro._report import report

__all__ = [
    "CONFIGURATOR_ENTRY_POINT",
    "check_configurator_selected",
    "invalid_limit_overrides",
    "propagator_names",
    "sampler_choice",
    "sdk_config_file",
    "valid_batch_overrides",
    "valid_id_generator_overrides",
]

CONFIGURATOR_ENTRY_POINT = "otel_distro"


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


# --- batch processors and the metric reader ------------------------------------

_BATCH_PREFIXES = ("OTEL_BSP", "OTEL_BLRP")  # span and log batch processors
_DEFAULT_QUEUE = 2048
_DEFAULT_BATCH = 512


def _int_or_none(raw: str | None, low: int) -> int | None:
    try:
        value = int((raw or "").strip())
    except ValueError:
        return None
    return value if value >= low else None


def _number_or_none(raw: str | None, positive: bool) -> float | None:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None
    if value != value or value < 0 or (positive and value == 0):  # nan, negative, zero
        return None
    return value


def valid_batch_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Batch-processor and metric-reader numbers the SDK would refuse, reported and replaced.

    The SDK raises on a non-positive queue, batch or delay, and on a batch larger than
    the queue (``OTEL_BSP_MAX_QUEUE_SIZE=100`` alone does, the default batch being
    512): telemetry setup would fail as a whole for one tuning value.
    """
    env = _environ(env)
    overrides: dict[str, str | None] = {}

    def check(name: str, ok: bool, expected: str) -> None:
        raw = env.get(name)
        if raw is None or ok:
            return
        report(f"{name}={raw!r} is not valid: expected {expected}; using the default")
        overrides[name] = None

    for prefix in _BATCH_PREFIXES:
        for suffix in ("SCHEDULE_DELAY", "MAX_QUEUE_SIZE", "MAX_EXPORT_BATCH_SIZE"):
            name = f"{prefix}_{suffix}"
            check(name, _int_or_none(env.get(name), 1) is not None, "a positive integer")
        name = f"{prefix}_EXPORT_TIMEOUT"
        check(name, _int_or_none(env.get(name), 0) is not None, "an integer >= 0")
        queue_name, batch_name = f"{prefix}_MAX_QUEUE_SIZE", f"{prefix}_MAX_EXPORT_BATCH_SIZE"
        queue = (
            None if queue_name in overrides else _int_or_none(env.get(queue_name), 1)
        ) or _DEFAULT_QUEUE
        batch = (
            None if batch_name in overrides else _int_or_none(env.get(batch_name), 1)
        ) or _DEFAULT_BATCH
        if batch > queue:
            given = batch_name not in overrides and env.get(batch_name)
            culprit = batch_name if given else queue_name
            report(
                f"{culprit}={env.get(culprit)!r} does not fit: {batch_name} ({batch}) "
                f"must not exceed {queue_name} ({queue}); using a batch size of {queue}"
            )
            overrides[batch_name] = str(queue)
    check(
        "OTEL_METRIC_EXPORT_INTERVAL",
        _number_or_none(env.get("OTEL_METRIC_EXPORT_INTERVAL"), positive=True) is not None,
        "a positive number of milliseconds",
    )
    check(
        "OTEL_METRIC_EXPORT_TIMEOUT",
        _number_or_none(env.get("OTEL_METRIC_EXPORT_TIMEOUT"), positive=False) is not None,
        "a number of milliseconds >= 0",
    )
    return overrides


# --- attribute, event and link limits (read when the SDK is imported) ---------------

_LIMIT_ENV = (
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)


def invalid_limit_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Attribute/event/link limits the SDK would refuse, reported and unset.

    The SDK reads them when ``opentelemetry.sdk.trace`` is first imported and raises
    on anything but a non-negative integer or ``unset`` (an empty value too): the
    configurator then fails to import and the app runs with no telemetry at all.
    The distro runs before that import, so a bad limit costs only that limit.
    """
    env = _environ(env)
    overrides: dict[str, str | None] = {}
    for name in _LIMIT_ENV:
        raw = env.get(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value == "unset":
            continue
        try:
            if int(value) >= 0:  # exactly what the SDK accepts
                continue
        except ValueError:
            pass
        overrides[name] = None
        report(
            f"{name}={raw!r} is not valid: expected a non-negative integer or 'unset'; "
            "using the SDK default"
        )
    return overrides


# --- id generator and sampler ----------------------------------------------------


def valid_id_generator_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """An unknown ``OTEL_PYTHON_ID_GENERATOR`` fails the SDK setup as a whole: report it."""
    from importlib.metadata import entry_points

    raw = _environ(env).get("OTEL_PYTHON_ID_GENERATOR")
    if raw is None or not raw.strip():
        return {}
    known = {ep.name for ep in entry_points(group="opentelemetry_id_generator")} | {"random"}
    if raw.strip() in known:
        return {}
    report(
        f"OTEL_PYTHON_ID_GENERATOR={raw!r} is not valid: expected one of "
        f"{', '.join(sorted(known))}; using random"
    )
    return {"OTEL_PYTHON_ID_GENERATOR": None}


_BUILTIN_SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


def sampler_choice(env: Mapping[str, str] | None = None) -> tuple[str | None, float | None]:
    """The sampler named by ``OTEL_TRACES_SAMPLER`` (None: the default) and its ratio.

    The ratio is set for the ratio samplers only: ``OTEL_TRACES_SAMPLER_ARG`` when
    it is a number from 0.0 to 1.0, else 1.0.  Unknown names and unusable ratios
    are reported here, naming the variable, rather than by the SDK's warning
    (which names neither variable nor what is allowed).
    """
    from importlib.metadata import entry_points

    env = _environ(env)
    raw = env.get("OTEL_TRACES_SAMPLER")
    if raw is None or not raw.strip():
        return None, None
    name = raw.strip()
    known = set(_BUILTIN_SAMPLERS) | {
        ep.name for ep in entry_points(group="opentelemetry_traces_sampler")
    }
    if name not in known:
        report(
            f"OTEL_TRACES_SAMPLER={raw!r} is not valid: expected one of "
            f"{', '.join(sorted(known))}; using parentbased_always_on"
        )
        return None, None
    if name not in _RATIO_SAMPLERS:
        return name, None
    arg = env.get("OTEL_TRACES_SAMPLER_ARG")
    if arg is None or not arg.strip():
        return name, 1.0
    try:
        rate = float(arg)
    except ValueError:
        rate = float("nan")
    if not 0.0 <= rate <= 1.0:
        report(
            f"OTEL_TRACES_SAMPLER_ARG={arg!r} is not valid for {name}: expected a number "
            "from 0.0 to 1.0; using 1.0"
        )
        return name, 1.0
    return name, rate


# --- propagators, configurator, configuration file ----------------------------------


def propagator_names(env: Mapping[str, str] | None = None) -> list[str]:
    """The propagators ``OTEL_PROPAGATORS`` names, lower-cased, without ``none`` and blanks."""
    raw = _environ(env).get("OTEL_PROPAGATORS", "tracecontext,baggage")
    names = (item.strip().lower() for item in raw.split(","))
    return [name for name in names if name and name != "none"]


def check_configurator_selected(env: Mapping[str, str] | None = None) -> bool:
    """Whether ours is the configurator; another one selected is reported."""
    chosen = _environ(env).get("OTEL_PYTHON_CONFIGURATOR", CONFIGURATOR_ENTRY_POINT)
    if chosen == CONFIGURATOR_ENTRY_POINT:
        return True
    report(
        f"OTEL_PYTHON_CONFIGURATOR={chosen!r} selects another configurator: otel-distro's "
        "redaction, tenant and log processors are NOT installed "
        f"(use {CONFIGURATOR_ENTRY_POINT!r} or unset it)"
    )
    return False


def sdk_config_file(env: Mapping[str, str] | None = None) -> str:
    """``OTEL_CONFIG_FILE`` (empty when unset); when set, say what the distro then skips."""
    config_file = _environ(env).get("OTEL_CONFIG_FILE", "").strip()
    if config_file:
        report(
            f"OTEL_CONFIG_FILE={config_file!r} is set: the SDK configures itself from "
            "that file and otel-distro's tenant and log processors are NOT installed "
            "(unset it to use them); its exporters are wrapped with otel-distro's redaction "
            "and what cannot be wrapped is shut down"
        )
    return config_file
