"""State carried between consecutive texts of one stream (one logger's records).

A PEM block or a ``password:`` value split across records is invisible to a
per-record scan: the first record ends inside the block (or right after the
key), the next one starts with the secret.  A :class:`TextCarry` remembers how
the previous text ended and redacts the start of the next one accordingly.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from ._marker import REDACTED

__all__ = ["TextCarry"]

KeyRule = Callable[[str], "str | None"]

_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_TRAILING_KEY = re.compile(r"([^\W\d][\w.\-]{0,63})[\"']?[ \t]*[:=][ \t]*[\"']?[ \t\r\n]*\Z")
_CLOSERS = " \t\r\n\"'"  # what may follow the key's ``:`` or ``=`` at a text's end
_FIRST_TOKEN = re.compile(r"\A[ \t\r\n\"']*([^\s\"',;]+)")


class TextCarry:
    """How the previous text of a stream ended: inside a private key, or after a key.

    Thread-safe; keep one per stream (per logger name).  An open state lasts at most
    *max_texts* further texts and *max_age* seconds, so a stream that stopped mid-block
    (or a stray ``key:`` at the end of a line) never masks unrelated text later on.
    """

    __slots__ = ("_clock", "_lock", "_max_age", "_max_texts", "_pem", "_rule", "_since", "_used")

    def __init__(
        self,
        max_texts: int = 64,
        max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._pem = False
        self._rule: str | None = None
        self._max_texts = max_texts
        self._max_age = max_age
        self._clock = clock
        self._since = 0.0
        self._used = 0

    @property
    def pending(self) -> bool:
        """Whether the next text may be redacted because of what came before."""
        return self._pem or self._rule is not None

    @staticmethod
    def may_open(text: str) -> bool:
        """Cheap test: whether *text* may leave a state open for the next one."""
        last = text[-1:]
        if last in _CLOSERS and last:
            last = text.rstrip(_CLOSERS)[-1:]
        return (last == ":" or last == "=") or "-----BEGIN " in text

    def clear(self) -> None:
        """Forget any open state."""
        with self._lock:
            self._pem = False
            self._rule = None

    def step(self, text: str, hits: list[str], rule_for: KeyRule) -> str:
        """:meth:`before` and :meth:`after` of one text, atomically (one lock for both)."""
        with self._lock:
            now = self._clock()
            if (self._pem or self._rule is not None) and (
                self._used >= self._max_texts or now - self._since > self._max_age
            ):
                self._pem, self._rule = False, None  # expired: the stream moved on
            was_pem = self._pem
            opened = self._before(text, hits)
            self._after(text, rule_for)
            if self._pem and was_pem:
                self._used += 1  # still inside the block an earlier text opened
            elif self._pem or self._rule is not None:
                self._since, self._used = now, 0
            return opened

    def before(self, text: str, hits: list[str]) -> str:
        """``text`` with what the previous text left open replaced at its start."""
        with self._lock:
            return self._before(text, hits)

    def after(self, original: str, rule_for: KeyRule) -> None:
        """Remember how ``original`` (the text before redaction) ended."""
        with self._lock:
            self._after(original, rule_for)

    def _before(self, text: str, hits: list[str]) -> str:
        pem, rule = self._pem, self._rule
        self._rule = None
        if pem:
            end = _END.search(text)
            hits.append("private_key")
            if end is None:
                return REDACTED
            self._pem = False
            return REDACTED + text[end.end() :]
        if rule is not None:
            token = _FIRST_TOKEN.match(text)
            if token is not None and not token.group(1).startswith(REDACTED):
                hits.append(rule)
                return text[: token.start(1)] + REDACTED + text[token.end(1) :]
        return text

    def _after(self, original: str, rule_for: KeyRule) -> None:
        begins = list(_BEGIN.finditer(original)) if "-----BEGIN " in original else []
        pem = bool(begins) and _END.search(original, begins[-1].end()) is None
        rule = None
        if not pem and (":" in original[-80:] or "=" in original[-80:]):
            trailing = _TRAILING_KEY.search(original[-80:])
            if trailing is not None:
                rule = rule_for(trailing.group(1))
        # still inside a block the previous text opened, unless this one closes it
        self._pem = pem or (self._pem and _END.search(original) is None)
        self._rule = rule
