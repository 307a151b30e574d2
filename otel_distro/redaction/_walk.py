"""The tree walk: mappings, sequences, JSON inside strings, and per-key decisions.

Every string reached goes to the text scan (:mod:`._scan`); keys are read by
:class:`._keys.KeyRules` (whole-value rules, and rules that depend on the value's
shape); a mapping that is a JSON Web Key or an exception record gets its own rules.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ._cache import CONTEXT_KEYS, QUERY_KEYS, URL_KEYS, CleanCache
from ._checksums import luhn_valid
from ._decode import redact_encoded
from ._keys import (
    JWK_PRIVATE_MEMBERS,
    KeyRules,
    glued_password_command,
    looks_generated,
    sequence_flag_rule,
)
from ._marker import REDACTED
from ._report import RedactionReport
from ._scan import TextScanner
from ._urls import redact_query, redact_url

__all__ = ["TRUNCATED", "Budget", "TreeWalker", "record"]

#: Appended to a string cut at ``max_scan`` characters.
TRUNCATED = "...[truncated]"

_SCAN_MARGIN = 1024  # scanned past the cut so a secret straddling it is still seen
_MISSING = object()
_LOOKUP_ERRORS = frozenset({"KeyError", "builtins.KeyError"})


class Budget:
    """How many more values one call may visit."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes


class TreeWalker:
    """Redacts values of any shape; see :class:`otel_distro.redaction.Redactor`."""

    def __init__(
        self,
        keys: KeyRules,
        scanner: TextScanner,
        cache: CleanCache,
        *,
        max_scan: int,
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.keys = keys
        self.scanner = scanner
        self.cache = cache
        self.max_scan = max_scan
        self.max_depth = max_depth
        self.max_nodes = max_nodes

    def value(
        self,
        value: Any,
        key: str | None,
        sink: RedactionReport,
        path: str,
        depth: int,
        budget: Budget,
    ) -> Any:
        """``value`` redacted as stored under ``key``."""
        try:
            if value is None or isinstance(value, bool):
                return value
            budget.nodes -= 1
            if budget.nodes < 0:
                sink.add("size_limit", path)
                return REDACTED
            if key is not None:
                rule = self.keys.rule_for(key)
                if rule is not None and not self.keys.keeps_number(rule, key, value):
                    sink.add(rule, path)
                    return REDACTED
                if rule is None:
                    rule = self.keys.conditional_rule(key, value)
                    if rule is not None:
                        sink.add(rule, path)
                        return REDACTED
            if isinstance(value, str):
                as_url = False
                if key in QUERY_KEYS or key in URL_KEYS:
                    hits: list[str] = []
                    if key in QUERY_KEYS:
                        value = redact_query(value, self.keys.rule_for, hits)
                    else:
                        value = redact_url(value, self.keys.rule_for, hits)
                        as_url = True
                    record(sink, hits, path)
                return self.text(value, sink, path, depth, budget, key, as_url)
            if isinstance(value, int):
                return self._int(value, sink, path)
            if isinstance(value, float):
                return value
            if depth >= self.max_depth:
                sink.add("depth_limit", path)
                return REDACTED
            if isinstance(value, Mapping):
                return self.mapping(value, sink, path, depth + 1, budget)
            if isinstance(value, (list, tuple)):
                keys = self._sequence_keys(value)
                items = [
                    self.value(item, keys.get(i), sink, f"{path}[{i}]", depth + 1, budget)
                    for i, item in enumerate(value)
                ]
                return tuple(items) if isinstance(value, tuple) else items
            if isinstance(value, (bytes, bytearray)):
                text = bytes(value).decode("utf-8", "replace")
                redacted = self.text(text, sink, path, depth, budget, key)
                return value if redacted == text else redacted
            return self.text(str(value), sink, path, depth, budget, key)
        except Exception:  # an application object whose str() or iteration fails: fail closed
            sink.add("error", path)
            return REDACTED

    def mapping(
        self,
        mapping: Mapping[Any, Any],
        sink: RedactionReport,
        path: str,
        depth: int,
        budget: Budget,
    ) -> dict[str, Any]:
        """A new dict with every key scanned and every value redacted under its key."""
        result: dict[str, Any] = {}
        rules = self.keys.cached
        conditional = self.keys.conditional_cached
        clean = self.cache.text
        special = _special_members(mapping, self.keys)
        clean_keys = self.cache.keys
        for raw_key, value in mapping.items():
            key = raw_key if type(raw_key) is str else str(raw_key)
            if key not in clean_keys:
                key = self._key_text(key, sink, path)
                if key.startswith(REDACTED) and key in result:
                    key = f"{REDACTED}[{len(result)}]"
            if special and key in special and value is not None:
                sink.add(special[key], f"{path}.{key}" if path else key)
                result[key] = REDACTED
                continue
            # Fast path: a clean key with a value already known clean, or a small number.
            if rules.get(key, _MISSING) is None and conditional.get(key, _MISSING) is None:
                kind = type(value)
                if (
                    (kind is str and value in clean and key not in CONTEXT_KEYS)
                    or (kind is int and -(10**12) < value < 10**12)
                    or kind is float
                    or kind is bool
                    or value is None
                ):
                    result[key] = value
                    continue
            result[key] = self.value(
                value, key, sink, f"{path}.{key}" if path else key, depth, budget
            )
        return result

    def _key_text(self, key: str, sink: RedactionReport, path: str) -> str:
        """A mapping key with secrets in it replaced (header names, logged JSON keys)."""
        if not key:
            return key
        where = f"{path}.(key)" if path else "(key)"
        if looks_generated(key, strict=True):  # a token used as a key (a session table)
            sink.add("generated_key", where)
            return REDACTED
        hits: list[str] = []
        redacted = self.scanner.scan(key[: self.max_scan], hits)
        if hits:
            record(sink, hits, where)
            return redacted
        if not self.scanner.rules:
            self.cache.remember_key(key)
        return key

    def _sequence_keys(self, items: list[Any] | tuple[Any, ...]) -> dict[int, str]:
        """Keys for sequence items named by their neighbour.

        ``["--password", "x"]``, ``["-a", "x"]`` (argument lists), ``[..., "password",
        "x"]`` and ``("x-api-key", "x")`` (header pairs, also as bytes) give the value
        the name's key rule.
        """
        keys: dict[int, str] = {}
        count = len(items)
        if count < 2:
            return keys
        if glued_password_command(items[0]):  # ``["mysql", "-uroot", "-pSECRET"]``
            for index in range(1, count):
                item = items[index]
                if type(item) is str and len(item) > 2 and item.startswith("-p"):
                    keys[index] = "password"
        for index in range(count - 1):
            name = items[index]
            if isinstance(name, (bytes, bytearray)) and len(name) <= 66:
                name = bytes(name).decode("latin-1")
            if type(name) is not str or len(name) > 66:
                continue
            following = items[index + 1]
            key = sequence_flag_rule(self.keys, name, following, pair=count == 2)
            if key is not None:
                keys[index + 1] = key
        return keys

    def _int(self, value: int, sink: RedactionReport, path: str) -> int | str:
        if 10**12 <= value < 10**19:
            digits = str(value)
            if digits[0] in "23456" and luhn_valid(digits):
                sink.add("card", path)
                return REDACTED
        return value

    def text(
        self,
        text: str,
        sink: RedactionReport,
        path: str,
        depth: int = 0,
        budget: Budget | None = None,
        key: str | None = None,
        as_url: bool = False,
    ) -> str:
        """A string redacted: JSON inside it structurally, otherwise by the text scan."""
        if not text:
            return text
        if text in self.cache.text:
            return text
        max_scan = self.max_scan
        truncated = len(text) > max_scan and not (
            # already cut to the limit upstream (the log values): scan it all, cut nothing
            len(text) <= max_scan + len(TRUNCATED) and text.endswith(TRUNCATED)
        )
        window = text[: max_scan + _SCAN_MARGIN] if truncated else text
        hits: list[str] = []
        result = self._json(window, sink, path, depth, budget)
        if result is None:

            def decoded(part: str, found: list[str]) -> str:
                return redact_encoded(part, found, self._structured(depth, budget))

            result = self.scanner.scan(window, hits, key, as_url=as_url, decoded=decoded)
            record(sink, hits, path)
        if truncated:
            sink.add("truncated", path)
            return result[:max_scan] + TRUNCATED
        if result is text and not self.scanner.rules and key not in URL_KEYS:
            self.cache.remember_text(text)
        return result

    def _structured(self, depth: int, budget: Budget | None) -> Any:
        """A function redacting a parsed JSON value; returns (value, replacements)."""

        def redact(parsed: Any) -> tuple[Any, int]:
            inner = RedactionReport()
            value = self.value(parsed, None, inner, "", depth + 1, budget or Budget(self.max_nodes))
            return value, inner.count

        if depth >= self.max_depth:
            return None
        return redact

    def _json(
        self,
        text: str,
        sink: RedactionReport,
        path: str,
        depth: int,
        budget: Budget | None,
    ) -> str | None:
        """Redact JSON found in ``text`` structurally; ``None`` if it is not JSON."""
        if text[0] not in '{[" \t\r\n':
            return None
        stripped = text.strip()
        if len(stripped) < 2 or stripped[0] not in '{["' or stripped[-1] not in '}]"':
            return None
        if depth >= self.max_depth:
            return None
        try:
            parsed = json.loads(stripped)
        except (ValueError, RecursionError):
            return None
        if isinstance(parsed, str):  # a JSON document encoded again as a JSON string
            if not parsed or parsed[0] not in '{["':
                return None
            before = sink.count
            inner = self.text(parsed, sink, path, depth + 1, budget)
            return text if sink.count == before else dumps(inner)
        if not isinstance(parsed, (dict, list)):
            return None
        before = sink.count
        redacted = self.value(parsed, None, sink, path, depth + 1, budget or Budget(self.max_nodes))
        if sink.count == before:
            return text
        return dumps(redacted)


def _special_members(mapping: Mapping[Any, Any], keys: KeyRules) -> dict[str, str] | None:
    """Members redacted because of what the mapping is, not their own names.

    A JSON Web Key's private members (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``,
    ``k``); the ``input`` a validation error echoes for a sensitive field; the message
    of a ``KeyError`` (it is the looked-up key, often a session id or a token).
    """
    found: dict[str, str] | None = None
    try:
        if "kty" in mapping:
            found = {m: "private_key" for m in JWK_PRIVATE_MEMBERS if m in mapping}
        if "input" in mapping and "loc" in mapping:
            rule = _loc_rule(mapping["loc"], keys)
            if rule is not None:
                found = {**(found or {}), "input": rule}
        named = _named_value(mapping, keys)
        if named is not None:
            found = {**(found or {}), named[0]: named[1]}
        kind = mapping.get("exception.type") if "exception.type" in mapping else None
        if isinstance(kind, str) and kind in _LOOKUP_ERRORS:
            found = {**(found or {}), "exception.message": "lookup_key"}
    except Exception:  # an exotic mapping: its values are still walked one by one
        return found
    return found or None


_VALUE_MEMBERS = ("value", "Value", "ParameterValue")
_NAME_MEMBERS = ("name", "Name", "key", "Key", "ParameterKey", "header", "field")


def _named_value(mapping: Mapping[Any, Any], keys: KeyRules) -> tuple[str, str] | None:
    """``(value member, rule)`` of a name/value pair whose name is sensitive, or None
    (only small mappings are pairs: span attributes skip the look-ups)."""
    if len(mapping) > 4:
        return None
    for member in _VALUE_MEMBERS:
        if member in mapping:
            break
    else:
        return None
    for name_member in _NAME_MEMBERS:
        name = mapping.get(name_member)
        if isinstance(name, str) and 0 < len(name) <= 64:
            rule = keys.rule_for(name)
            if rule is not None:
                return member, rule
    return None


def _loc_rule(loc: Any, keys: KeyRules) -> str | None:
    """The key rule for a validation error's ``loc`` (its last field name), or None."""
    if isinstance(loc, str):
        loc = (loc,)
    if not isinstance(loc, (list, tuple)):
        return None
    for part in reversed(loc):
        if isinstance(part, str):
            return keys.rule_for(part)
    return None


def dumps(value: Any) -> str:
    """JSON text for a redacted document, readable (non-ASCII kept) unless that would
    write characters UTF-8 cannot hold (lone surrogates parsed from ``\\ud800``)."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # escaped again, as they were in the input
            return json.dumps(value)
    return text


def record(sink: RedactionReport, hits: list[str], path: str) -> None:
    """Add the rule names in ``hits`` to ``sink`` under ``path``."""
    if not hits:
        return
    for rule, times in Counter(hits).items():
        sink.add(rule, path, times)
