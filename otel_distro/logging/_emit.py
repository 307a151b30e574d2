"""The log worker: finishes queued events off the caller's thread.

The caller appends one tuple per event to a deque (``put``); a daemon thread
drains it in batches, calling ``Pipeline.complete`` on each item (redact,
render, emit the OTel record into the SDK logger of scope ``otel_distro.logging``
through a :class:`RecordWriter`) and writing the batch's lines with one ``write``.

``flush()`` drains synchronously in the calling thread.  The provider's
``force_flush``/``shutdown`` are wrapped to drain first, and an ``atexit`` hook
(registered after the provider's own) drains at exit.  After ``fork`` the child
starts with an empty queue and a new thread.  Nothing here raises into the app.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from opentelemetry._logs import Logger, LoggerProvider, NoOpLogger
from opentelemetry._logs import get_logger_provider as _global_provider

from otel_distro._report import internal_error
from otel_distro.logging._records import RecordWriter

if TYPE_CHECKING:
    from otel_distro.logging._pipeline import Item
    from otel_distro.logging._render import Output

__all__ = ["SCOPE", "Emitter"]

SCOPE = "otel_distro.logging"

_MAX_PENDING = 65536
_BATCH = 1024
_FEED_POLL = 0.002  # how often held records are offered to full batch queues
# An ERROR completes the queue on the caller's thread only when that is cheap: at most
# this many events waiting, and the worker's lock free within ``_URGENT_WAIT`` seconds.
_URGENT_BACKLOG = 256
_URGENT_WAIT = 0.05


class Emitter:
    """A bounded queue of captured events and the thread that completes them."""

    def __init__(self) -> None:
        self.logger: Logger | None = None
        self.writer: RecordWriter | None = None
        self.enabled = False
        self.dropped = 0
        self._init_runtime()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._init_runtime)

    def _init_runtime(self) -> None:
        self._items: deque[Item] = deque()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._awake = False
        self._thread: threading.Thread | None = None
        writer = getattr(self, "writer", None)
        if writer is not None:  # a forked child: the parent's held records are not ours
            writer.forget_held()

    def set_provider(self, provider: LoggerProvider | None) -> None:
        """Emit OTel records through *provider* (None: the global one)."""
        self.flush_all()
        provider = provider if provider is not None else _global_provider()
        logger = provider.get_logger(SCOPE)
        self.logger = logger
        self.writer = RecordWriter(logger)
        self.enabled = not isinstance(logger, NoOpLogger) and _is_real(provider)
        _wrap_flush(provider, self)
        # Registered after the provider's own atexit hook, so it runs before it.
        atexit.unregister(self.flush_all)
        atexit.register(self.flush_all)

    # hot path -------------------------------------------------------------------

    def put(self, item: Item) -> None:
        """Queue one captured event (drops and counts it when the queue is full)."""
        items = self._items
        if len(items) >= _MAX_PENDING:
            self.dropped += 1
            return
        items.append(item)
        if not self._awake:
            self._awake = True
            if self._thread is None:
                self._start()
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
        waiting = False  # records held for full batch queues: offered again shortly
        while True:
            wake.wait(_FEED_POLL if waiting else None)
            wake.clear()
            while True:
                self._drain()
                self._awake = False
                if not self._items:
                    break
                self._awake = True
            waiting = self._feed()

    def _feed(self) -> bool:
        """Offer held records to the batch queues; True while some still wait."""
        writer = self.writer
        if writer is None or not writer.held():
            return False
        try:
            with self._lock:
                return writer.feed()
        except Exception:  # the worker must keep running
            internal_error("logging.feed")
            return False

    def _drain(self) -> None:
        items = self._items
        with self._lock:
            while items:
                batch: list[Item] = []
                try:
                    for _ in range(_BATCH):
                        batch.append(items.popleft())
                except IndexError:
                    pass
                _complete(batch)

    def flush(self) -> None:
        """Complete everything queued so far, in the calling thread."""
        try:
            self._drain()
        except Exception:  # flushing is best effort
            internal_error("logging.flush")

    def flush_urgent(self) -> None:
        """For ERROR and above: complete the queue now if that is quick, else leave it to
        the (already woken) worker, so a burst never makes the caller wait long."""
        if len(self._items) > _URGENT_BACKLOG:
            return
        lock = self._lock
        if not lock.acquire(timeout=_URGENT_WAIT):
            return
        try:
            self._drain()
        except Exception:  # flushing is best effort
            internal_error("logging.flush_urgent")
        finally:
            lock.release()

    def flush_all(self) -> None:
        """:meth:`flush`, then wait while records held for full batch queues move into
        them (provider flush and shutdown, exit); bounded by the writer's stall limit."""
        self.flush()
        try:
            while self._feed():
                time.sleep(_FEED_POLL)
                self.flush()
        except Exception:  # flushing is best effort
            internal_error("logging.flush_all")

    def pending(self) -> int:
        return len(self._items)


def _complete(batch: list[Item]) -> None:
    """Each item is ``(pipeline, ...)``; lines of one output are written together."""
    lines: list[str] = []
    output: Output | None = None
    for item in batch:
        pipeline = item[0]
        try:
            line = pipeline.complete(item)
        except Exception:  # one bad event must not stop the others
            internal_error("logging.complete")
            continue
        if line is None:
            continue
        if output is not pipeline.output and lines and output is not None:
            output.write_lines(lines)
            lines = []
        output = pipeline.output
        lines.append(line)
    if lines and output is not None:
        output.write_lines(lines)


def _is_real(provider: LoggerProvider) -> bool:
    """False for the API's proxy provider before an SDK provider is set."""
    return type(provider).__name__ != "ProxyLoggerProvider"


def _wrap_flush(provider: LoggerProvider, emitter: Emitter) -> None:
    """Make ``provider.force_flush()``/``shutdown()`` drain our queue first."""
    if getattr(provider, "_otel_distro_wrapped", False):
        return
    flush: Callable[..., object] | None = getattr(provider, "force_flush", None)
    shutdown: Callable[..., object] | None = getattr(provider, "shutdown", None)
    if not callable(flush) or not callable(shutdown):
        return

    def force_flush(*args: object, **kwargs: object) -> object:
        emitter.flush_all()
        return flush(*args, **kwargs)

    def shutdown_first(*args: object, **kwargs: object) -> object:
        emitter.flush_all()
        return shutdown(*args, **kwargs)

    try:
        setattr(provider, "force_flush", force_flush)  # noqa: B010 - not every provider has it
        setattr(provider, "shutdown", shutdown_first)  # noqa: B010
        setattr(provider, "_otel_distro_wrapped", True)  # noqa: B010
    except Exception:  # noqa: S110 - a (third-party) provider with slots keeps its methods
        pass
