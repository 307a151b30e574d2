"""Encoded JSON inside text: percent-encoded (``%7B%22password%22...``) or base64.

Each candidate is decoded, parsed as JSON and redacted structurally; when
something was replaced, a percent-encoded document is re-encoded redacted and
a base64 one is replaced whole (its redacted form would be a new encoding).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from ._marker import REDACTED

__all__ = ["redact_encoded"]

Structured = Callable[[Any], "tuple[Any, int]"]

_PERCENT = re.compile(r"%7[Bb](?:[A-Za-z0-9_.~!*'()\-+]|%[0-9A-Fa-f]{2}){4,65536}")
# base64 of ``{"`` / ``{ "`` / ``[{"`` / ``["``: eyJ, eyAi, W3si, WyI
_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/_\-])(?:eyJ|eyAi|W3si|WyI)[A-Za-z0-9+/_\-]{8,65536}={0,2}(?![A-Za-z0-9+/=_\-])"
)


def _parse(text: str) -> Any:
    text = text.strip()
    if len(text) < 2 or text[0] not in "{[" or text[-1] not in "}]":
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, (dict, list)) else None


def redact_encoded(text: str, hits: list[str], structured: Structured | None) -> str:
    """``text`` with sensitive members of encoded JSON documents replaced."""
    if structured is None:
        return text
    if "%7" in text:
        text = _PERCENT.sub(lambda m: _percent(m.group(0), hits, structured), text)
    if "eyJ" in text or "eyAi" in text or "W3si" in text or "WyI" in text:
        text = _BASE64.sub(lambda m: _base64(m.group(0), hits, structured), text)
    return text


def _percent(encoded: str, hits: list[str], structured: Structured) -> str:
    decoded = unquote(encoded)
    parsed = _parse(decoded)
    if parsed is None:
        return encoded
    redacted, count = structured(parsed)
    if not count:
        return encoded
    hits.append("encoded_json")
    return quote(json.dumps(redacted, separators=(",", ":")), safe="")


def _base64(encoded: str, hits: list[str], structured: Structured) -> str:
    if encoded.count(".") >= 2:  # a JWT: its own rule
        return encoded
    body = encoded.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return encoded
    parsed = _parse(decoded)
    if parsed is None:
        return encoded
    _redacted, count = structured(parsed)
    if not count:
        return encoded
    hits.append("encoded_json")
    return REDACTED
