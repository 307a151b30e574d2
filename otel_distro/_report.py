"""Messages from the distro to the operator, and the guard around the distro's own code.

:func:`report` prints one line on stderr per distinct message; :func:`internal_error`
and :func:`guarded` keep a failure of our code out of the application.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from otel_distro._state import slot

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Meter, Observation

__all__ = [
    "RAISE_VARIABLE",
    "guarded",
    "internal_error",
    "internal_error_counts",
    "observe_internal_errors",
    "once_reported",
    "report",
    "reset_reports",
]

_reported = slot("report.messages", set[str])


def once_reported(message: str) -> bool:
    """True the first time *message* is seen in this process (then it should be printed)."""
    seen = _reported.value
    if message in seen:
        return False
    seen.add(message)
    return True


def report(message: str) -> None:
    """Print one message once per process on stderr, prefixed ``otel-distro:`` (never raises)."""
    if not once_reported(message):
        return
    try:
        print(f"otel-distro: {message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: S110 - a closed stderr must not break the app
        pass


def reset_reports() -> None:
    """Forget which messages were printed (tests, or after a reconfiguration)."""
    _reported.reset()


# --- the internal-error guard ---------------------------------------------------

#: Set to a true value (our own test suite does) to re-raise the distro's internal errors.
RAISE_VARIABLE = "OTEL_DISTRO_RAISE_INTERNAL_ERRORS"
_TRUE = frozenset(("1", "true", "yes", "on"))

_counts_lock = threading.Lock()
_internal_errors = slot("report.internal_errors", dict[str, int])


def internal_error(where: str) -> None:
    """Record that the distro's own code failed at *where*; call it inside ``except``.

    In production the exception is swallowed: it is counted by place and said
    once per place on stderr (type only, never the message, which may hold
    data).  With ``OTEL_DISTRO_RAISE_INTERNAL_ERRORS`` on, the exception being
    handled is re-raised, so a bug in our code fails the test that hit it.
    """
    error = sys.exc_info()[1]
    with _counts_lock:
        counts = _internal_errors.value
        first = where not in counts
        counts[where] = counts.get(where, 0) + 1
    if error is not None and os.environ.get(RAISE_VARIABLE, "").strip().lower() in _TRUE:
        raise  # the exception the caller is handling
    if first:
        kind = type(error).__name__ if error is not None else "error"
        report(f"internal error in {where} ({kind}); the app continues with less telemetry")


@contextlib.contextmanager
def guarded(where: str) -> Iterator[None]:
    """``with guarded("place"):`` runs the block under :func:`internal_error`."""
    try:
        yield
    except Exception:
        internal_error(where)


def internal_error_counts() -> dict[str, int]:
    """Internal errors swallowed so far, by place."""
    with _counts_lock:
        return dict(_internal_errors.value)


def observe_internal_errors(meter: Meter) -> None:
    """Create the ``otel_distro.internal_errors`` counter (by ``where``) on ``meter``.

    A non-zero value means the distro's own code failed and the app went on with
    less telemetry; the place names the hook, never the data it was handling.
    """
    from opentelemetry.metrics import Observation

    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        counts = internal_error_counts()
        return [Observation(count, {"where": where}) for where, count in sorted(counts.items())]

    meter.create_observable_counter(
        "otel_distro.internal_errors",
        callbacks=[callback],
        unit="{error}",
        description="Failures of the distro's own code, swallowed so the app went on, by place.",
    )
