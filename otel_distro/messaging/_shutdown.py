"""Ending SSE streams when the server is told to stop.

An SSE response never completes on its own, and uvicorn waits for every open
response before it shuts down: without help, one connected browser keeps the
process alive after SIGTERM.  When the first subscriber opens on the main thread,
the signal handlers the server installed for SIGTERM and SIGINT are chained:
the signal first asks every broker to end its streams (reason
``server_shutdown``: queued messages are flushed, the response completes), then
reaches the server's own handler unchanged.  Handlers that are not Python
callables (the default action, ignore) are left alone.
"""

from __future__ import annotations

import signal
import threading
import weakref
from types import FrameType
from typing import TYPE_CHECKING, Any

from otel_distro._report import guarded

if TYPE_CHECKING:
    from otel_distro.messaging._broker import SSEBroker

__all__ = ["close_all", "watch"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_MARK = "_otel_distro_sse_shutdown"
_brokers: weakref.WeakSet[SSEBroker] = weakref.WeakSet()


def close_all() -> None:
    """Ask every live broker to end its streams (thread- and signal-safe)."""
    for broker in list(_brokers):
        broker.close()


def watch(broker: SSEBroker) -> None:
    """Remember *broker*; on the main thread, chain the server's stop-signal handlers."""
    _brokers.add(broker)
    if threading.current_thread() is not threading.main_thread():
        return
    with guarded("messaging.signal_chain"):
        for signum in _SIGNALS:
            _chain(signum)


def _chain(signum: int) -> None:
    current: Any = signal.getsignal(signum)
    if not callable(current) or getattr(current, _MARK, False):
        return

    def handler(received: int, frame: FrameType | None) -> None:
        with guarded("messaging.signal_close"):
            close_all()
        current(received, frame)

    setattr(handler, _MARK, True)
    signal.signal(signum, handler)
