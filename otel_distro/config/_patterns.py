"""User-supplied redaction patterns: split, compiled, and rejected when they could backtrack."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from otel_distro.config._parsers import Invalid

__all__ = ["parse_patterns", "split_patterns"]


def _nested_unbounded_repeat(pattern: str) -> bool:
    """Whether a repeat that is unbounded contains another repeat (``(a+)+``, ``(a|a)*``...).

    Such patterns can backtrack catastrophically; redaction runs them on untrusted text.
    """
    import importlib

    try:  # the parser moved in Python 3.11; sre_parse is deprecated there
        constants: ModuleType = importlib.import_module("re._constants")
        parser: ModuleType = importlib.import_module("re._parser")
    except ImportError:
        constants = importlib.import_module("sre_constants")
        parser = importlib.import_module("sre_parse")

    repeats = (constants.MAX_REPEAT, constants.MIN_REPEAT)

    def walk(items: Iterable[tuple[object, Any]], inside_unbounded: bool) -> bool:
        for op, arg in items:
            if op in repeats:
                _low, high, sub = arg
                unbounded = high == constants.MAXREPEAT or high > 100
                if inside_unbounded and (unbounded or high > 1):
                    return True
                if walk(sub, inside_unbounded or unbounded):
                    return True
            elif op == constants.SUBPATTERN:
                if walk(arg[-1], inside_unbounded):
                    return True
            elif op == constants.BRANCH:
                if any(walk(branch, inside_unbounded) for branch in arg[1]):
                    return True
            elif op in (constants.ASSERT, constants.ASSERT_NOT) and walk(arg[1], inside_unbounded):
                return True
        return False

    return walk(parser.parse(pattern).data, False)


def split_patterns(raw: str) -> list[str]:
    """Split at commas outside brackets, braces, parentheses and escapes (``a{1,3}`` stays)."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    in_class = escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def parse_patterns(raw: str) -> tuple[str, ...]:
    """Comma-separated regular expressions; each must compile, not match '' and be linear-safe.

    A rejected pattern is named by its position (``pattern 2 of 3``) and the problem,
    never by its text: these patterns are usually the user's own secrets.
    """
    patterns: list[str] = []
    items = split_patterns(raw)
    for number, item in enumerate(items, 1):
        where = f"pattern {number} of {len(items)} ({len(item)} characters)"
        try:
            compiled = re.compile(item)
        except re.error as exc:
            at = "" if exc.pos is None else f" at character {exc.pos + 1}"
            raise Invalid(
                f"comma-separated regular expressions ({where} does not compile: {exc.msg}{at})"
            ) from None
        if compiled.search("") is not None:
            raise Invalid(
                f"comma-separated regular expressions that never match the empty string"
                f" ({where} does)"
            )
        if _nested_unbounded_repeat(item):
            raise Invalid(
                f"comma-separated regular expressions without nested repeats such as (a+)+"
                f" ({where} could backtrack catastrophically)"
            )
        patterns.append(item)
    return tuple(patterns)


# Headers the request-id header must not be: its client-sent value is recorded on the
