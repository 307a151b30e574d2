"""Whether a string looks generated (a token, a key) rather than written by a person.

Used where a name alone does not decide: path segments after a sensitive segment,
``*_KEY`` environment values, tokens used as mapping keys.  Pure character
statistics, linear in the length, no regexes.
"""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = ["entropy", "looks_generated", "looks_like_time"]

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.~:")


def entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character."""
    if not text:
        return 0.0
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())


def looks_generated(text: str, *, strict: bool = False, minimum: int = 8) -> bool:
    """True for a run of token characters that looks machine-made.

    Lenient (after a sensitive name): at least ``minimum`` characters, and a part
    (between ``-_.~+=:``) where letters and digits alternate (``a8f3k29d``), a UUID
    or 16+ hex digits, upper-case letters with digits (``T0ABCDEFG``), irregular
    mixed case (12+), or 16+ unseparated letters (and digits) of high entropy.  Human-made
    names are not: all-digit ids, words with a number at one end
    (``report-2024.pdf``, ``sha256``, ``v2``), ``CamelCaseWords``, separated
    lower-case words (``reset-password``).  Strict (no sensitive name next to
    it): 24+ characters with upper case, lower case and digits and at least 3.5
    bits of entropy per character.
    """
    length = len(text)
    if length < (24 if strict else minimum) or length > 4096:
        return False
    upper = lower = digit = 0
    for char in text:
        if char not in _TOKEN_CHARS:
            return False
        if "a" <= char <= "z":
            lower += 1
        elif "A" <= char <= "Z":
            upper += 1
        elif "0" <= char <= "9":
            digit += 1
    if strict:
        return bool(upper and lower and digit) and entropy(text) >= 3.5
    if not upper + lower:
        return False
    if digit and (_hex_id(text) or (upper and not lower and length >= 8)):
        return True  # a UUID, a hex run, or an upper-case id such as ``T024BE7LD``
    parts = [part for part in _PARTS.split(text) if part]
    if digit and any(_alternates(part) for part in parts):
        return True
    if upper and lower and length >= 12 and any(_irregular_case(part) for part in parts):
        return True
    return any(len(part) >= 16 and part.isalnum() and entropy(part) >= 3.3 for part in parts)


_PARTS = re.compile(r"[-_.~+=:/]")
_HEX = frozenset("0123456789abcdefABCDEF")


def _hex_id(text: str) -> bool:
    """A UUID or a run of 16+ hex digits (with at least one letter and one digit)."""
    compact = text.replace("-", "")
    return len(compact) >= 16 and all(c in _HEX for c in compact)


def _alternates(part: str) -> bool:
    """Letters and digits alternating at least twice (``a8f3``), not ``sha256``/``2fa``."""
    changes = 0
    previous = None
    for char in part:
        kind = char.isdigit()
        if previous is not None and kind != previous:
            changes += 1
            if changes >= 2:
                return True
        previous = kind
    return False


def _irregular_case(part: str) -> bool:
    """Mixed case that is not ``CamelCaseWords`` (two capitals in a row, or short humps)."""
    if len(part) < 8 or part.isupper() or part.islower():
        return False
    humps = 0
    previous = ""
    for char in part:
        if char.isupper():
            if previous.isupper():
                return True
            humps += 1
        previous = char
    return humps * 4 > len(part)


_TIME = re.compile(
    r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}(?:[Tt ]?[0-9]{2}:?[0-9]{2}(?::?[0-9]{2}(?:[.,][0-9]{1,9})?)?"
    r"(?:[Zz]|[+\-][0-9]{2}:?[0-9]{2})?)?"
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
    r"|[0-9]+(?:\.[0-9]+)?(?:ns|us|ms|s|m|h|d)?"
)


def looks_like_time(text: str) -> bool:
    """A date, a time, a timestamp (ISO 8601, compact, epoch) or a duration (``900s``)."""
    return _TIME.fullmatch(text) is not None
