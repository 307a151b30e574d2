"""Flush telemetry when the process is stopped with SIGTERM.

Servers such as uvicorn shut down gracefully on SIGTERM and then re-raise it
with the handler that was in place before they started; with the default
handler the process dies by the signal and ``atexit`` hooks (the SDK's final
export of spans, logs and metrics) never run.  The distro installs a handler
that turns SIGTERM into a normal exit (status 143), so those hooks run.  An
application's own SIGTERM handler is never replaced.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["install_sigterm_flush"]

EXIT_STATUS = 128 + signal.SIGTERM


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(EXIT_STATUS)


def install_sigterm_flush() -> bool:
    """Install the handler if SIGTERM still has its default; True when installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
            return False
        signal.signal(signal.SIGTERM, _exit_normally)
    except (ValueError, OSError):
        return False
    return True
