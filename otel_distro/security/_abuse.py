"""Sliding-window violation counts per key, with bounded memory that never hides an abuser.

A :class:`WindowCounter` keeps, per key, the times of its last ``threshold``
violations (a ring of at most ``threshold`` floats): a key is *over its threshold*
when the oldest of those is younger than the window.  Crossing it reports the key
once; the key cannot report again until a full window has passed.

Memory is bounded by ``max_keys``.  Keys under their threshold live in an LRU
table; a key over it moves to a separate table and is never evicted while it is
over (it returns to the LRU table once it cools down).  When both tables are
full and every key is over its threshold, a new key is not tracked (counted in
:attr:`WindowCounter.untracked`) rather than evicting one that is.  Every
operation is O(1) amortised; one lock makes the counter safe under threads and
under asyncio (nothing awaits while it is held).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Crossing", "WindowCounter"]


class _Entry:
    """The violation times of one key: a list that becomes a ring once full."""

    __slots__ = ("alert_until", "check_at", "head", "times")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.head = 0  # index of the oldest time once the ring is full
        self.alert_until = 0.0  # no new alert before this time
        self.check_at = 0.0  # when a key over its threshold is looked at again

    def add(self, now: float, size: int) -> None:
        times = self.times
        if len(times) < size:
            times.append(now)
        else:
            times[self.head] = now
            self.head = (self.head + 1) % size

    def oldest_of_last(self, size: int) -> float | None:
        """The time of the ``size``-th most recent violation, or None if fewer."""
        if len(self.times) < size:
            return None
        return self.times[self.head]

    def count_since(self, start: float) -> int:
        return sum(1 for moment in self.times if moment > start)


@dataclass(frozen=True)
class Crossing:
    """A key crossing its threshold: what an ``abuse_signal_detected`` event reports."""

    key: str
    count: int  # violations of this key within the window (at least the threshold)
    threshold: int
    window_seconds: float


class WindowCounter:
    """Counts violations per key in a sliding window (see the module docstring)."""

    def __init__(
        self,
        threshold: int,
        window_seconds: float,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = max(1, int(threshold))
        self.window = float(window_seconds)
        self.max_keys = max(1, int(max_keys))
        self._clock = clock
        self._lock = threading.Lock()
        self._cool: OrderedDict[str, _Entry] = OrderedDict()  # under threshold, LRU first
        self._hot: OrderedDict[str, _Entry] = OrderedDict()  # over it, by check_at
        self.untracked = 0  # violations of new keys refused because every key was hot
        self.evicted = 0  # keys under their threshold dropped to make room

    def __len__(self) -> int:
        return len(self._cool) + len(self._hot)

    def is_over(self, key: str) -> bool:
        """Whether ``key`` is over its threshold now."""
        with self._lock:
            entry = self._hot.get(key) or self._cool.get(key)
            return entry is not None and self._over(entry, self._clock())

    def record(self, key: str) -> Crossing | None:
        """Count one violation of ``key``; a :class:`Crossing` when it raises an alert."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            entry = self._hot.get(key)
            if entry is not None:
                entry.add(now, self.threshold)
                if now >= entry.alert_until and self._over(entry, now):
                    return self._alert(key, entry, now)
                return None
            entry = self._cool.get(key)
            if entry is None:
                if not self._make_room():
                    self.untracked += 1
                    return None
                entry = _Entry()
                self._cool[key] = entry
            else:
                self._cool.move_to_end(key)
            entry.add(now, self.threshold)
            if not self._over(entry, now):
                return None
            del self._cool[key]  # a cooled key's alert window has always ended
            return self._alert(key, entry, now)

    def _over(self, entry: _Entry, now: float) -> bool:
        oldest = entry.oldest_of_last(self.threshold)
        return oldest is not None and oldest > now - self.window

    def _alert(self, key: str, entry: _Entry, now: float) -> Crossing:
        entry.alert_until = entry.check_at = now + self.window
        self._hot[key] = entry
        self._hot.move_to_end(key)
        count = entry.count_since(now - self.window)
        return Crossing(key, count, self.threshold, self.window)

    def _make_room(self) -> bool:
        if len(self._cool) + len(self._hot) < self.max_keys:
            return True
        if self._cool:
            self._cool.popitem(last=False)
            self.evicted += 1
            return True
        return False

    def _sweep(self, now: float) -> None:
        """Keys whose check time has come: still over (look again later) or cooled (to LRU).

        Each key looked at again is paid for by a violation since it was last looked at
        (it can only still be over its threshold with a newer one), hence O(1) amortised.
        """
        hot = self._hot
        while hot:
            key = next(iter(hot))
            entry = hot[key]
            if entry.check_at > now:
                return
            del hot[key]
            if self._over(entry, now):
                oldest = entry.oldest_of_last(self.threshold) or now
                entry.check_at = max(entry.alert_until, oldest + self.window)
                hot[key] = entry
            else:
                self._cool[key] = entry

    def clear(self) -> None:
        """Forget every key (tests)."""
        with self._lock:
            self._cool.clear()
            self._hot.clear()
            self.untracked = self.evicted = 0
