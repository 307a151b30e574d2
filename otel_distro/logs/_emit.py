"""Hand finished log events to the OTel SDK off the caller's thread.

The caller appends one small tuple to a deque; a daemon thread turns batches of
them into ``LogRecord``\\s and emits them through the SDK logger (scope
``otel_distro.logging``, so later processors know the record is already
redacted).  ``flush()`` drains synchronously; the provider's ``force_flush``
and ``shutdown`` are wrapped to drain first, and an ``atexit`` hook drains
before the provider's own shutdown.  Nothing here raises into the app.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import deque
from typing import Any

from opentelemetry._logs import LoggerProvider, LogRecord, NoOpLogger, SeverityNumber
from opentelemetry._logs import get_logger_provider as _global_provider
from opentelemetry.context import Context

__all__ = ["SCOPE", "Emitter"]

SCOPE = "otel_distro.logging"

# (time_ns, severity number, severity text, body, attributes, context)
Item = tuple[int, SeverityNumber, str, Any, dict[str, Any], Context]

_WAKE_AT = 512
_MAX_PENDING = 32768
_IDLE_SECONDS = 0.25


class Emitter:
    """A bounded queue of events and the thread that emits them."""

    def __init__(self) -> None:
        self._provider: LoggerProvider | None = None
        self._logger: Any = None
        self.enabled = False
        self.dropped = 0
        self._init_runtime()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._init_runtime)

    def _init_runtime(self) -> None:
        self._items: deque[Item] = deque()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # configuration ------------------------------------------------------------

    def set_provider(self, provider: LoggerProvider | None) -> None:
        """Emit through *provider* (None: the global one, resolved now)."""
        self.flush()
        provider = provider if provider is not None else _global_provider()
        logger = provider.get_logger(SCOPE)
        self._provider = provider
        self._logger = logger
        self.enabled = not isinstance(logger, NoOpLogger)
        _wrap_flush(provider, self)
        # Registered after the provider's own atexit hook, so it runs before it.
        atexit.unregister(self.flush)
        atexit.register(self.flush)

    # hot path -------------------------------------------------------------------

    def put(self, item: Item) -> None:
        """Queue one event (drops and counts it when the queue is full)."""
        items = self._items
        if len(items) >= _MAX_PENDING:
            self.dropped += 1
            return
        items.append(item)
        if self._thread is None:
            self._start()
        elif len(items) == _WAKE_AT:
            self._wake.set()

    # worker ---------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="otel-distro-logs", daemon=True)
            self._thread = thread
        thread.start()

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait(_IDLE_SECONDS)
            wake.clear()
            self._drain()

    def _drain(self) -> None:
        items = self._items
        logger = self._logger
        with self._lock:
            while items:
                try:
                    ts, number, text, body, attributes, context = items.popleft()
                except IndexError:
                    return
                try:
                    logger.emit(
                        LogRecord(
                            timestamp=ts,
                            observed_timestamp=ts,
                            context=context,
                            severity_number=number,
                            severity_text=text,
                            body=body,
                            attributes=attributes,
                        )
                    )
                except Exception:  # noqa: S112 - a broken processor must not stop the thread
                    continue

    def flush(self) -> None:
        """Emit everything queued so far, in the calling thread."""
        try:
            if self._logger is not None:
                self._drain()
        except Exception:  # noqa: S110 - flushing is best effort
            pass

    def pending(self) -> int:
        return len(self._items)


def _wrap_flush(provider: Any, emitter: Emitter) -> None:
    """Make ``provider.force_flush()``/``shutdown()`` drain our queue first."""
    if getattr(provider, "_otel_distro_wrapped", False):
        return
    flush = getattr(provider, "force_flush", None)
    shutdown = getattr(provider, "shutdown", None)
    if not callable(flush) or not callable(shutdown):
        return

    def force_flush(*args: Any, **kwargs: Any) -> Any:
        emitter.flush()
        return flush(*args, **kwargs)

    def shutdown_first(*args: Any, **kwargs: Any) -> Any:
        emitter.flush()
        return shutdown(*args, **kwargs)

    try:
        provider.force_flush = force_flush
        provider.shutdown = shutdown_first
        provider._otel_distro_wrapped = True
    except Exception:  # noqa: S110 - a provider with slots keeps its methods
        pass
