"""One :class:`~otel_distro.redaction.TextCarry` per logger name, bounded.

A PEM block or a ``password:`` value split across consecutive records of one
logger is only visible with state carried from one record to the next.  The table
holds at most :data:`NAMES_MAX` logger names (least recently used dropped first),
and a carried state expires after :data:`MAX_RECORDS` records or
:data:`MAX_AGE` seconds, so memory stays bounded and a stale state never masks
unrelated text.  Records of other loggers never touch a logger's state.

A record that can neither open a state nor meets one open costs one dictionary
lookup and a look at its last character; the rest happens under the table's lock
(creation, LRU order) and the carry's own lock (one step per record).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_distro.redaction import TextCarry

__all__ = ["MAX_AGE", "MAX_RECORDS", "NAMES_MAX", "Carries"]

NAMES_MAX = 256
MAX_RECORDS = 32
MAX_AGE = 5.0


class Carries:
    """Logger name -> carry, an LRU of at most *size* names (thread-safe)."""

    __slots__ = ("_carry_type", "_lock", "_table", "size")

    def __init__(self, carry_type: type[TextCarry], size: int = NAMES_MAX) -> None:
        self._carry_type = carry_type
        self._lock = threading.Lock()
        self._table: OrderedDict[str, TextCarry] = OrderedDict()
        self.size = size

    def __len__(self) -> int:
        return len(self._table)

    def for_text(self, name: object, text: str) -> TextCarry | None:
        """The carry *text* of logger *name* must pass through, or None when it needs none."""
        if type(name) is not str:
            return None
        table = self._table
        carry = table.get(name) if table else None
        if (carry is None or not carry.pending) and not self._carry_type.may_open(text):
            return None
        with self._lock:
            carry = self._table.get(name)
            if carry is None:
                carry = self._carry_type(max_texts=MAX_RECORDS, max_age=MAX_AGE)
                self._table[name] = carry
                while len(self._table) > self.size:
                    self._table.popitem(last=False)
            else:
                self._table.move_to_end(name)
            return carry

    def clear(self) -> None:
        """Forget every logger's state."""
        with self._lock:
            self._table.clear()
