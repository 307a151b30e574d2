"""Shared pieces of the red-team redaction tests (``tests/hostile``)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MB", "SECRET", "STRADDLING", "as_text"]

SECRET = "Hx7SECRETq9w8e7r6"
MB = 1024 * 1024

#: Tokens of recognisable shapes, for values cut in the middle of one.
STRADDLING = [
    "ghp_" + "Zq9" * 12,
    "AKIAZQ7EXAMPLEKEY0AB",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6In0.c2lnbmF0dXJlLXZhbHVl",
    "sk_live_" + "Zq9x" * 6,
]


def as_text(value: Any) -> str:
    """A redacted value as text to search for the secret (JSON for non-strings)."""
    return json.dumps(value) if not isinstance(value, str) else value
