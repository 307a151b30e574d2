"""State carried between consecutive texts of one stream (one logger's records).

A PEM block or a ``password:`` value split across records is invisible to a
per-record scan: the first record ends inside the block (or right after the
key), the next one starts with the secret.  A :class:`TextCarry` remembers how
the previous text ended and redacts the start of the next one accordingly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from ._marker import REDACTED

__all__ = ["TextCarry"]

KeyRule = Callable[[str], "str | None"]

_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_TRAILING_KEY = re.compile(r"([^\W\d][\w.\-]{0,63})[\"']?[ \t]*[:=][ \t]*[\"']?[ \t\r\n]*\Z")
_FIRST_TOKEN = re.compile(r"\A[ \t\r\n\"']*([^\s\"',;]+)")


class TextCarry:
    """How the previous text of a stream ended: inside a private key, or after a key.

    Thread-safe; keep one per stream (per logger name).
    """

    __slots__ = ("_lock", "_pem", "_rule")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pem = False
        self._rule: str | None = None

    def before(self, text: str, hits: list[str]) -> str:
        """``text`` with what the previous text left open replaced at its start."""
        with self._lock:
            pem, rule = self._pem, self._rule
            self._rule = None
        if pem:
            end = _END.search(text)
            hits.append("private_key")
            if end is None:
                return REDACTED
            with self._lock:
                self._pem = False
            return REDACTED + text[end.end() :]
        if rule is not None:
            token = _FIRST_TOKEN.match(text)
            if token is not None and not token.group(1).startswith(REDACTED):
                hits.append(rule)
                return text[: token.start(1)] + REDACTED + text[token.end(1) :]
        return text

    def after(self, original: str, rule_for: KeyRule) -> None:
        """Remember how ``original`` (the text before redaction) ended."""
        begins = list(_BEGIN.finditer(original)) if "-----BEGIN " in original else []
        pem = bool(begins) and _END.search(original, begins[-1].end()) is None
        rule = None
        if not pem and (":" in original[-80:] or "=" in original[-80:]):
            trailing = _TRAILING_KEY.search(original[-80:])
            if trailing is not None:
                rule = rule_for(trailing.group(1))
        with self._lock:
            # still inside a block the previous text opened, unless this one closes it
            self._pem = pem or (self._pem and _END.search(original) is None)
            self._rule = rule
