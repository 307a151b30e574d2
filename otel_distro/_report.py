"""Messages from the distro to the operator, and the guard around the distro's own code.

:func:`report` prints one line on stderr per distinct message; :func:`internal_error`
and :func:`guarded` keep a failure of our code out of the application.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = [
    "RAISE_VARIABLE",
    "guarded",
    "internal_error",
    "internal_error_counts",
    "once_reported",
    "report",
    "reset_reports",
]

_reported: set[str] = set()


def once_reported(message: str) -> bool:
    """True the first time *message* is seen in this process (then it should be printed)."""
    if message in _reported:
        return False
    _reported.add(message)
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
    _reported.clear()


# --- the internal-error guard ---------------------------------------------------

#: Set to a true value (our own test suite does) to re-raise the distro's internal errors.
RAISE_VARIABLE = "OTEL_DISTRO_RAISE_INTERNAL_ERRORS"

_internal_errors: dict[str, int] = {}


def internal_error(where: str) -> None:
    """Record that the distro's own code failed at *where*; call it inside ``except``.

    In production the exception is swallowed: it is counted by place and said
    once per place on stderr (type only, never the message, which may hold
    data).  With ``OTEL_DISTRO_RAISE_INTERNAL_ERRORS`` on, the exception being
    handled is re-raised, so a bug in our code fails the test that hit it.
    """
    error = sys.exc_info()[1]
    _internal_errors[where] = _internal_errors.get(where, 0) + 1
    if os.environ.get(RAISE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on"):
        raise  # the exception the caller is handling
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
    return dict(_internal_errors)
