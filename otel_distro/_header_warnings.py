"""The SDK's per-request warnings about over-long trace-context headers, bounded.

The W3C propagator warns on every request whose ``tracestate`` is over its limit and,
from SDK 1.45.2, whose ``traceparent`` is over 512 characters (the header is then
ignored): any client could write one warning line per request it sends.  The first
warning of each kind is said; the next ones within :data:`INTERVAL` seconds are only
counted, and the first one after that says how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from otel_distro._report import internal_error
from otel_distro._state import slot

__all__ = ["INTERVAL", "LOGGER", "HeaderWarningFilter", "quiet_header_warnings"]

INTERVAL = 60.0
LOGGER = "opentelemetry.trace.propagation.tracecontext"
_KINDS = ("traceparent header exceeded", "tracestate header exceeded")


class _Held:
    """When each kind was last said, and how many were left out since."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.said: dict[str, float] = {}
        self.left_out: dict[str, int] = {}


_held = slot("header_warnings.held", _Held)


class HeaderWarningFilter(logging.Filter):
    """Lets one over-long-header warning of each kind through per *interval*."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, interval: float = INTERVAL
    ) -> None:
        super().__init__()
        self._clock = clock
        self._interval = interval

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = str(record.msg)
            kind = next((k for k in _KINDS if message.startswith(k)), None)
            if kind is None:
                return True
            now = self._clock()
            held = _held.value
            with held.lock:
                said = held.said.get(kind)
                if said is not None and now - said < self._interval:
                    held.left_out[kind] = held.left_out.get(kind, 0) + 1
                    return False
                held.said[kind] = now
                left_out = held.left_out.pop(kind, 0)
            if left_out:
                record.msg = f"{message} (and {left_out} more since the last such line)"
            return True
        except Exception:
            internal_error("propagation.header_warnings")
            return True


_filter = HeaderWarningFilter()


def quiet_header_warnings() -> None:
    """Install the filter on the W3C propagator's logger (idempotent)."""
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(f, HeaderWarningFilter) for f in logger.filters):
        logger.addFilter(_filter)
