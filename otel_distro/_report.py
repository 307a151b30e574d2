"""Messages from the distro to the operator: one line on stderr per distinct message."""

from __future__ import annotations

import sys

__all__ = ["once_reported", "report", "reset_reports"]

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
