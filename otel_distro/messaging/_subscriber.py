"""One SSE subscriber: a bounded queue between the publisher and its sending task.

The publisher only appends to the queue (or drops when it is full) and wakes the
sending task; it never awaits the subscriber.  A full queue starts a
backpressure episode, which ends once the sending task has drained the queue
below half of its size.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context, get_current

__all__ = [
    "CLIENT_GONE",
    "ERROR",
    "REASONS",
    "SERVER_SHUTDOWN",
    "SLOW_SUBSCRIBER",
    "Subscriber",
]

CLIENT_GONE = "client_gone"
SERVER_SHUTDOWN = "server_shutdown"
SLOW_SUBSCRIBER = "slow_subscriber"
ERROR = "error"
REASONS = (CLIENT_GONE, SERVER_SHUTDOWN, SLOW_SUBSCRIBER, ERROR)

_ids = itertools.count(1)
#: Frames joined into one ``send``: bounds the bytes a single write holds.
_MAX_BATCH_BYTES = 256 * 1024


class Subscriber:
    """A subscriber's queue, counters and backpressure state (one per open stream)."""

    def __init__(self, queue_size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.id = next(_ids)
        self.queue_size = queue_size
        self.queue: deque[bytes] = deque()
        self.loop = loop
        self._loop_thread = threading.get_ident()
        self.wake = asyncio.Event()
        self.context: Context = get_current()
        self.span = trace.get_current_span(self.context)
        self.opened = time.monotonic()
        self.forwarded = 0
        self.dropped = 0
        self.sent = 0
        self.episodes = 0
        self.episode_start: float | None = None
        self.close_reason: str | None = None
        self.task: asyncio.Future[Any] | None = None

    @property
    def closing(self) -> bool:
        return self.close_reason is not None

    def offer(self, frame: bytes) -> bool:
        """Queue a frame unless the queue is full; never waits.  True when queued."""
        if len(self.queue) >= self.queue_size or self.closing:
            self.dropped += 1
            return False
        self.queue.append(frame)
        self.forwarded += 1
        self.on_loop(self.wake.set)
        return True

    def start_episode(self) -> bool:
        """Mark the start of a backpressure episode; False when one is already running."""
        if self.episode_start is not None:
            return False
        self.episode_start = time.monotonic()
        self.episodes += 1
        return True

    def take(self) -> tuple[bytes, int] | None:
        """The queued frames as one chunk and their number (None when empty).

        Taking frames can end the backpressure episode.
        """
        queue = self.queue
        if not queue:
            return None
        first = queue.popleft()
        if not queue:
            chunk, count = first, 1
        else:
            parts = [first]
            size = len(first)
            while queue and size < _MAX_BATCH_BYTES:
                frame = queue.popleft()
                parts.append(frame)
                size += len(frame)
            chunk, count = b"".join(parts), len(parts)
        if self.episode_start is not None and len(queue) * 2 < self.queue_size:
            self.episode_start = None
        return chunk, count

    def episode_seconds(self) -> float:
        """How long the current backpressure episode has lasted (0 without one)."""
        start = self.episode_start
        return 0.0 if start is None else time.monotonic() - start

    def close(self, reason: str, cancel_after: float | None = None) -> None:
        """Ask the stream to end with *reason*; cancel its sending task after a delay."""
        if self.close_reason is None:
            self.close_reason = reason
        self.on_loop(self.wake.set)
        if cancel_after is not None:
            self.on_loop(lambda: self.loop.call_later(cancel_after, self._cancel))

    def _cancel(self) -> None:
        task = self.task
        if task is not None and not task.done():
            task.cancel()

    def on_loop(self, callback: Callable[[], Any]) -> None:
        """Run *callback* on the subscriber's loop: now when called from it, else soon."""
        if threading.get_ident() == self._loop_thread:
            callback()
            return
        try:
            self.loop.call_soon_threadsafe(callback)
        except RuntimeError:  # the loop is closed: the stream is gone anyway
            return
