"""The ``text/event-stream`` wire format: one encoded frame per message, shared by
every subscriber.

Event names and ids cannot break out of their field: CR, LF and NUL are removed
from them (a newline there would start a forged field or event); data is split
on every line break into ``data:`` lines, so it cannot either.
"""

from __future__ import annotations

import json
import re

__all__ = ["KEEPALIVE", "encode_event"]

#: A comment line: keeps proxies and load balancers from closing an idle stream.
KEEPALIVE = b": keepalive\n\n"

_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_FIELD_BREAKERS = re.compile(r"[\r\n\x00]")
_MAX_FIELD = 256


def _data_text(data: object) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data).decode("utf-8", "replace")
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def _field(value: object) -> str:
    return _FIELD_BREAKERS.sub("", str(value))[:_MAX_FIELD]


def encode_event(data: object, event: str | None = None, id: object = None) -> bytes:
    """One SSE frame: ``str`` and ``bytes`` data as text, anything else as JSON."""
    parts: list[str] = []
    if event:
        parts.append(f"event: {_field(event)}\n")
    if id is not None:
        parts.append(f"id: {_field(id)}\n")
    for line in _LINE_BREAKS.split(_data_text(data)):
        parts.append(f"data: {line}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8", "replace")
