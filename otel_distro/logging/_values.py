"""Turn arbitrary log values into JSON- and OTLP-safe data, never raising.

Both sinks (the rendered line and the OTel record) receive the same cleaned
values, so the redaction engine sees the exact text that leaves the process
(an object's ``str()`` is produced here, before redaction, not by the SDK).
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import TypeAlias

from opentelemetry.util.types import AnyValue

__all__ = [
    "CODE_STACKTRACE",
    "Clean",
    "clean",
    "clean_mapping",
    "exception_attributes",
    "safe_str",
    "stack_text",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MAX_DEPTH = 6
_MAX_ITEMS = 256

#: A cleaned value: what both sinks take as they are (a kind of OpenTelemetry's ``AnyValue``).
Clean: TypeAlias = "str | int | float | bool | list[Clean] | dict[str, Clean] | None"


def safe_str(value: object, limit: int) -> str:
    """``str(value)`` truncated to *limit*; a failing ``__str__`` gives a placeholder."""
    try:
        text = str(value)
    except Exception:  # the application's object refuses str(): not our failure
        try:
            text = f"<unprintable {type(value).__qualname__}>"
        except Exception:  # even its type's name is hostile
            text = "<unprintable>"
    return _text(text, limit)


# Characters of tokens, keys and ``key=value`` runs: a cut never splits such a run,
# so a secret straddling the limit is dropped whole instead of half shown (the
# redaction engine only sees the text after the cut and cannot recognise a half).
_RUN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=~%:")
_RUN_BACKTRACK = 1024


def _cut(value: str, limit: int) -> str:
    """``value[:limit]``, moved back to the start of a token run the limit falls inside."""
    end = limit
    if value[end - 1 : end] in _RUN_CHARS and value[end : end + 1] in _RUN_CHARS:
        stop = max(0, end - _RUN_BACKTRACK)
        while end > stop and value[end - 1] in _RUN_CHARS:
            end -= 1
        if end == stop and stop > 0:  # a run longer than the backtrack: cut at the limit
            end = limit
    return value[:end]


def _tail(value: str, limit: int) -> str:
    """``value[-limit:]``, starting at a line (or token-run) boundary."""
    if len(value) <= limit:
        return value
    tail = value[-limit:]
    newline = tail.find("\n", 0, _RUN_BACKTRACK)
    if newline != -1:
        return tail[newline + 1 :]
    start = 0
    while start < min(len(tail), _RUN_BACKTRACK) and tail[start] in _RUN_CHARS:
        start += 1
    return tail[start:]


#: The semantic-convention attribute for a stack captured by ``stack_info``.
CODE_STACKTRACE = "code.stacktrace"


def stack_text(stack: str, limit: int) -> str:
    """A stack trace cut to *limit* characters, keeping the innermost (last) frames."""
    return _text(_tail(stack, limit), limit)


def _text(value: str, limit: int) -> str:
    if len(value) > limit:
        value = _cut(value, limit) + "...[truncated]"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: OTLP and JSON consumers reject them
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def clean(value: object, limit: int, depth: int = 0, seen: set[int] | None = None) -> Clean:
    """Return *value* as str/int/float/bool/None, or lists and str-keyed dicts of those."""
    if type(value) is str:
        return _text(value, limit)
    if type(value) is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if type(value) is float:
        return value if math.isfinite(value) else str(value)
    if value is None or type(value) is bool:
        return value
    try:
        return _clean_other(value, limit, depth, seen)
    except Exception:  # the application's object is hostile (iteration, len(), keys)
        return safe_str(value, limit)


def _clean_other(value: object, limit: int, depth: int, seen: set[int] | None) -> Clean:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return clean(bytes(value[: limit + 1]).decode("utf-8", "backslashreplace"), limit)
    if isinstance(value, enum.Enum):
        return clean(value.value, limit, depth, seen)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return clean(int(value), limit)
    if isinstance(value, float):
        return clean(float(value), limit)
    if isinstance(value, str):
        return clean(str(value), limit)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, BaseException):
        return safe_str(f"{type(value).__qualname__}: {safe_str(value, limit)}", limit)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        if depth >= _MAX_DEPTH:
            return "<too deep>"
        seen = set() if seen is None else seen
        marker = id(value)
        if marker in seen:
            return "<cycle>"
        seen.add(marker)
        try:
            if isinstance(value, Mapping):
                return _clean_items(value, limit, depth, seen)
            return [clean(v, limit, depth + 1, seen) for v in list(value)[:_MAX_ITEMS]]
        finally:
            seen.discard(marker)
    return safe_str(value, limit)


def _clean_items(
    value: Mapping[object, object], limit: int, depth: int, seen: set[int]
) -> dict[str, Clean]:
    out: dict[str, Clean] = {}
    for n, (key, item) in enumerate(value.items()):
        if n >= _MAX_ITEMS:
            break
        name = _text(key if type(key) is str else safe_str(key, 256), 256)
        out[name or "(empty)"] = clean(item, limit, depth + 1, seen)
    return out


def clean_mapping(values: Mapping[str, object], limit: int) -> dict[str, AnyValue]:
    """Clean every value of an event's attributes (keys become strings); each is a ``Clean``."""
    out: dict[str, AnyValue] = {}
    for key, value in values.items():
        if type(key) is not str or not key or not key.isascii():
            key = _text(safe_str(key, 256), 256) or "(empty)"
        if type(value) is str:
            if len(value) <= limit and value.isascii():
                out[key] = value
                continue
        elif type(value) is int:
            if _INT64_MIN <= value <= _INT64_MAX:
                out[key] = value
                continue
        elif type(value) is float and value - value == 0.0:  # finite: inf - inf, nan - nan are nan
            out[key] = value
            continue
        out[key] = clean(value, limit)
    return out


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def exception_attributes(exc_info: object, limit: int) -> dict[str, str] | None:
    """``exception.type``/``.message``/``.stacktrace`` for an ``exc_info`` value, or None.

    Accepts ``True`` (the exception being handled), an exception instance or a
    ``sys.exc_info()`` tuple, like structlog and the standard library do.
    """
    try:
        info = _exc_info(exc_info)
        if info is None:
            return None
        kind, exc, tb = info
        module = kind.__module__
        name = (
            kind.__qualname__
            if module in ("builtins", "__main__")
            else (f"{module}.{kind.__qualname__}")
        )
        stack = "".join(traceback.format_exception(kind, exc, tb))
        return {
            "exception.type": name,
            "exception.message": safe_str(exc, limit),
            "exception.stacktrace": stack_text(stack, limit),
        }
    except Exception:  # the application's exception cannot be formatted
        return None


def _exc_info(exc_info: object) -> ExcInfo | None:
    if exc_info is True:
        import sys

        current = sys.exc_info()
        return None if current[1] is None else current
    if isinstance(exc_info, BaseException):
        return type(exc_info), exc_info, exc_info.__traceback__
    if (
        isinstance(exc_info, tuple)
        and len(exc_info) == 3
        and isinstance(exc_info[1], BaseException)
    ):
        return type(exc_info[1]), exc_info[1], exc_info[2]
    return None
