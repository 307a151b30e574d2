"""Random secrets in the shapes real credentials have (never fixed strings)."""

from __future__ import annotations

import base64
import random
import secrets
import string

__all__ = ["alnum", "b64", "digits", "hexs", "lower_alnum", "mixed", "urlsafe"]

_RANDOM = random.SystemRandom()


def alnum(n: int) -> str:
    """``n`` random letters and digits, with at least one of each class."""
    while True:
        text = "".join(_RANDOM.choice(string.ascii_letters + string.digits) for _ in range(n))
        if (
            any(c.isdigit() for c in text)
            and any(c.isupper() for c in text)
            and any(c.islower() for c in text)
        ):
            return text


def lower_alnum(n: int) -> str:
    """``n`` random lower-case letters and digits (both present)."""
    while True:
        text = "".join(_RANDOM.choice(string.ascii_lowercase + string.digits) for _ in range(n))
        if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            return text


def hexs(n: int) -> str:
    """``n`` random lower-case hex digits (a letter and a digit present)."""
    while True:
        text = secrets.token_hex((n + 1) // 2)[:n]
        if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            return text


def digits(n: int) -> str:
    """``n`` random digits, not starting with 0."""
    return str(_RANDOM.randint(1, 9)) + "".join(_RANDOM.choice(string.digits) for _ in range(n - 1))


def urlsafe(n: int = 32) -> str:
    """A ``secrets.token_urlsafe`` value of about ``4n/3`` characters, with a digit."""
    while True:
        text = secrets.token_urlsafe(n)
        if any(c.isdigit() for c in text) and not text.startswith("-"):
            return text


def mixed(n: int) -> str:
    """A password-like value: letters, digits and punctuation."""
    return alnum(n - 2) + _RANDOM.choice("!@#%^*") + str(_RANDOM.randint(0, 9))


def b64(n: int) -> str:
    """Base64 of ``n`` random bytes (may end in ``=``)."""
    return base64.b64encode(secrets.token_bytes(n)).decode()
