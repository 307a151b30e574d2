"""The one place that writes ``os.environ`` (besides the distro's ``setdefault`` defaults).

The OpenTelemetry SDK reads its settings from the environment only.  The
checks (:mod:`._otlp_checks`, :mod:`._sdk_checks`) never write it: they return
*overrides*, ``{name: value}`` where ``None`` means "treat as unset".  This
module applies them, either for good, before the SDK is imported
(:func:`prepare_environ`, :func:`apply_overrides`), or for the duration of the
SDK's setup only (:func:`patched_environ`), so that child processes still see
the user's own values.  :func:`overlaid` reads an environment as if the
overrides were applied, without writing anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager

from otel_distro.config._otlp_checks import (
    valid_endpoint_overrides,
    valid_header_overrides,
    valid_protocol_overrides,
)
from otel_distro.config._sdk_checks import (
    check_configurator_selected,
    invalid_limit_overrides,
    valid_batch_overrides,
    valid_id_generator_overrides,
)

__all__ = [
    "Overrides",
    "apply_overrides",
    "drop_invalid_limits",
    "overlaid",
    "patched_environ",
    "prepare_environ",
    "sdk_overrides",
]

#: Variable -> corrected value, or ``None`` to treat the variable as unset.
Overrides = Mapping[str, str | None]

_SANITIZE_FIELDS = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"


class _Overlay(Mapping[str, str]):
    """A read-only view of an environment with overrides applied."""

    def __init__(self, base: Mapping[str, str], overrides: Overrides) -> None:
        self._base = base
        self._overrides = dict(overrides)

    def __getitem__(self, name: str) -> str:
        if name in self._overrides:
            value = self._overrides[name]
            if value is None:
                raise KeyError(name)
            return value
        return self._base[name]

    def __iter__(self) -> Iterator[str]:
        for name in self._base:
            if self._overrides.get(name, "") is not None:
                yield name
        for name, value in self._overrides.items():
            if value is not None and name not in self._base:
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)


def overlaid(overrides: Overrides, env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """``env`` (default ``os.environ``) as it reads with ``overrides`` applied; writes nothing."""
    return _Overlay(os.environ if env is None else env, overrides)


def apply_overrides(overrides: Overrides, env: MutableMapping[str, str] | None = None) -> None:
    """Set (or, for ``None``, delete) each variable for good."""
    target = os.environ if env is None else env
    for name, value in overrides.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


@contextmanager
def patched_environ(overrides: Overrides) -> Iterator[None]:
    """Apply ``overrides`` to ``os.environ`` for the ``with`` block, then restore it.

    The SDK reads its variables while it sets itself up; restoring them keeps
    the user's values for child processes and later readers.
    """
    saved = {name: os.environ.get(name) for name in overrides}
    apply_overrides(overrides)
    try:
        yield
    finally:
        apply_overrides(saved)


def drop_invalid_limits(env: MutableMapping[str, str]) -> None:
    """Remove (and report) attribute/event/link limits the SDK would refuse on import."""
    apply_overrides(invalid_limit_overrides(env), env)


def prepare_environ(
    env: MutableMapping[str, str] | None = None, sensitive_headers: Iterable[str] = ()
) -> None:
    """Repairs that must happen before the SDK is imported, applied for good.

    Drops limits the SDK would refuse when ``opentelemetry.sdk.trace`` is imported,
    reports another configurator being selected, and adds ``sensitive_headers`` to
    ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS`` (the user's
    names are kept, in front).
    """
    target = os.environ if env is None else env
    drop_invalid_limits(target)
    check_configurator_selected(target)
    user = [item.strip() for item in target.get(_SANITIZE_FIELDS, "").split(",") if item.strip()]
    merged = ",".join(dict.fromkeys([*user, *sensitive_headers]))
    apply_overrides({_SANITIZE_FIELDS: merged}, target)


def sdk_overrides(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Every correction of the SDK's variables, for :func:`patched_environ` around its setup.

    OTLP protocols and headers, batch and reader numbers, the id generator, then
    the endpoints (whose check depends on the corrected protocol).
    """
    overrides: dict[str, str | None] = {}
    overrides.update(valid_protocol_overrides(env))
    overrides.update(valid_header_overrides(env))
    overrides.update(valid_batch_overrides(env))
    overrides.update(valid_id_generator_overrides(env))
    overrides.update(valid_endpoint_overrides(overlaid(overrides, env)))
    return overrides
