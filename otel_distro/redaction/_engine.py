"""The engine: one :class:`Redactor` applies every rule to values and mappings.

Order for a string: key rules (whole value), then, on at most ``max_scan``
characters, JSON found in the string (structure-aware), PEM blocks, URLs,
``key=value`` fragments, value patterns, user patterns, PII patterns and
Python rules.  A value the engine fails on is replaced whole (fail closed).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._checksums import luhn_valid
from ._keys import KeyRules
from ._marker import REDACTED
from ._patterns import BUILTIN_PATTERNS, PII_PATTERNS, ValuePattern, custom_pattern
from ._report import RedactionReport
from ._text import PAIR_HINT, redact_pairs, redact_path_secrets, redact_pem, redact_validation
from ._urls import (
    FRAGMENT_IN_TEXT,
    QUERY_IN_TEXT,
    RELATIVE_USERINFO_IN_TEXT,
    URL_IN_TEXT,
    redact_query,
    redact_url,
)

__all__ = ["TRUNCATED", "Redactor", "Rule"]

#: A Python rule: ``rule(key, text)`` returns the new text, or ``None`` for no change.
Rule = Callable[[str | None, str], str | None]

#: Appended to a string cut at ``max_scan`` characters.
TRUNCATED = "...[truncated]"

_SCAN_MARGIN = 1024  # scanned past the cut so a secret straddling it is still seen
_CLEAN_CACHE_MAX = 4096
_CLEAN_CACHE_LEN = 512
_QUERY_KEYS = frozenset({"url.query", "url.fragment"})
# Attributes holding a URL or a request target (``/path?query``), read as URLs.
_URL_KEYS = frozenset({"url.full", "url.original", "http.url", "http.target"})
# Values read by their key's own rules (as a query or a URL), not as free text: a string
# known clean as text may still hold a secret there (``/p#sig=...`` as a URL), and text
# scanned there skipped the free-text query scan.  Never answered from the clean cache.
_CONTEXT_KEYS = _QUERY_KEYS | _URL_KEYS
# ``--password value`` in an argument list, ``[name, value]`` header pairs.
_FLAG = re.compile(r"--?([A-Za-z][A-Za-z0-9_.\-]{0,63})")
_PAIR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
_MISSING = object()


class _Budget:
    __slots__ = ("nodes",)

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes


class Redactor:
    """Redacts secrets (and optionally PII) from values, mappings, text and URLs.

    Thread-safe; build it once (see :func:`otel_distro.redaction.get_redactor`).
    """

    def __init__(
        self,
        *,
        extra_keys: Iterable[str] = (),
        extra_patterns: Iterable[str] = (),
        allow_keys: Iterable[str] = (),
        pii: bool = False,
        max_scan: int = 65536,
        rules: Iterable[Rule] = (),
        max_depth: int = 16,
        max_nodes: int = 10_000,
    ) -> None:
        self._keys = KeyRules(extra_keys, allow_keys, pii)
        self._patterns = [(p, re.compile(p.hint)) for p in BUILTIN_PATTERNS]
        self._pii = [(p, re.compile(p.hint)) for p in PII_PATTERNS] if pii else []
        self._custom = [custom_pattern(i, p) for i, p in enumerate(extra_patterns, 1)]
        self._rules = tuple(rules)
        self._pair_hint = re.compile(PAIR_HINT)
        self._max_scan = max_scan
        self._max_depth = max_depth
        self._max_nodes = max_nodes
        self._clean: dict[str, None] = {}
        self._clean_keys: dict[str, None] = {}
        # keys known_clean may pass without further checks (clean, no key rule, not a URL)
        self._plain_keys: dict[str, None] = {}
        self._totals: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, rules: Iterable[Rule] = ()) -> Redactor:
        """Build from :class:`otel_distro.config.Settings` (``redact_*`` values)."""
        return cls(
            extra_keys=settings.redact_keys,
            extra_patterns=settings.redact_values,
            allow_keys=settings.redact_allow_keys,
            pii=settings.redact_pii,
            max_scan=settings.redact_max_scan,
            rules=rules,
        )

    def __repr__(self) -> str:
        return (
            f"Redactor(pii={bool(self._pii)}, custom_patterns={len(self._custom)},"
            f" rules={len(self._rules)}, max_scan={self._max_scan})"
        )

    # --- public ------------------------------------------------------------

    def rule_for_key(self, key: str) -> str | None:
        """The key rule that makes ``key`` sensitive, or ``None``."""
        return self._keys.rule_for(key)

    def known_clean(self, text: Any, mapping: Mapping[Any, Any]) -> bool:
        """True when ``redact_text(text)`` and ``redact_mapping(mapping)`` would change nothing.

        Answers from what earlier calls learned (clean keys and strings seen
        before, small numbers), without scanning: a log event that repeats
        known-clean values skips the redaction pass.  ``False`` means "scan it".
        """
        if text and (type(text) is not str or text not in self._clean):
            return False
        if "input" in mapping and "loc" in mapping:
            return False
        clean = self._clean
        plain = self._plain_keys
        for key, value in mapping.items():
            if type(key) is not str:
                return False
            if key not in plain and not self._learn_plain(key):
                return False
            kind = type(value)
            if kind is str:
                if value not in clean:
                    return False
            elif kind is int:
                if not -(10**12) < value < 10**12:
                    return False
            elif not (kind is float or kind is bool or value is None):
                return False
        return True

    def _learn_plain(self, key: str) -> bool:
        """Whether *key* is known clean, not sensitive and not read as a URL; remembered."""
        if key not in self._clean_keys or key in _CONTEXT_KEYS:
            return False
        if self._keys.cached.get(key, _MISSING) is not None:
            return False
        plain = self._plain_keys
        if len(plain) >= _CLEAN_CACHE_MAX:
            plain.clear()
        plain[key] = None
        return True

    def redact_value(
        self,
        value: Any,
        key: str | None = None,
        *,
        report: RedactionReport | None = None,
        path: str | None = None,
    ) -> Any:
        """``value`` with secrets replaced; ``key`` is the name it is stored under."""
        sink = RedactionReport() if report is None else report
        before = sink.count
        where = (key or "") if path is None else path
        result = self._value(value, key, sink, where, 0, _Budget(self._max_nodes))
        self._tally(sink, before)
        return result

    def redact_mapping(
        self,
        mapping: Mapping[Any, Any] | None,
        *,
        report: RedactionReport | None = None,
        path: str = "",
    ) -> dict[str, Any]:
        """A new dict with every value redacted under its key."""
        if not mapping:
            return {}
        sink = RedactionReport() if report is None else report
        before = sink.count
        try:
            result = self._mapping(mapping, sink, path, 0, _Budget(self._max_nodes))
        except Exception:
            sink.add("error", path)
            result = {str(k): REDACTED for k in _safe_keys(mapping)}
        self._tally(sink, before)
        return result

    def redact_text(
        self, text: str, *, report: RedactionReport | None = None, path: str = ""
    ) -> str:
        """Free text (message, traceback, command line) with secrets replaced."""
        sink = RedactionReport() if report is None else report
        before = sink.count
        try:
            result = self._text(text, sink, path)
        except Exception:
            sink.add("error", path)
            result = REDACTED
        self._tally(sink, before)
        return result

    def redact_url(self, url: str, *, report: RedactionReport | None = None, path: str = "") -> str:
        """A URL (absolute or ``/path?query#fragment``) with credentials replaced."""
        sink = RedactionReport() if report is None else report
        before = sink.count
        try:
            hits: list[str] = []
            result = self._text(redact_url(url, self._keys.rule_for, hits), sink, path)
            _record(sink, hits, path)
        except Exception:
            sink.add("error", path)
            result = REDACTED
        self._tally(sink, before)
        return result

    def counts(self) -> dict[str, int]:
        """Replacements so far in this process, by rule name."""
        with self._lock:
            return dict(self._totals)

    # --- internals ---------------------------------------------------------

    def _tally(self, sink: RedactionReport, before: int) -> None:
        if sink.count == before:
            return
        new = sink.take_new()
        with self._lock:
            self._totals.update(new)

    def _value(
        self,
        value: Any,
        key: str | None,
        sink: RedactionReport,
        path: str,
        depth: int,
        budget: _Budget,
    ) -> Any:
        try:
            if value is None or isinstance(value, bool):
                return value
            budget.nodes -= 1
            if budget.nodes < 0:
                sink.add("size_limit", path)
                return REDACTED
            if key is not None:
                rule = self._keys.rule_for(key)
                if rule is not None and not (rule == "token" and isinstance(value, (int, float))):
                    sink.add(rule, path)
                    return REDACTED
            if isinstance(value, str):
                if key in _QUERY_KEYS or key in _URL_KEYS:
                    hits: list[str] = []
                    if key in _QUERY_KEYS:
                        value = redact_query(value, self._keys.rule_for, hits)
                    else:
                        value = redact_url(value, self._keys.rule_for, hits)
                    _record(sink, hits, path)
                return self._text(value, sink, path, depth, budget, key)
            if isinstance(value, int):
                return self._int(value, sink, path)
            if isinstance(value, float):
                return value
            if depth >= self._max_depth:
                sink.add("depth_limit", path)
                return REDACTED
            if isinstance(value, Mapping):
                return self._mapping(value, sink, path, depth + 1, budget)
            if isinstance(value, (list, tuple)):
                keys = self._sequence_keys(value)
                items = [
                    self._value(item, keys.get(i), sink, f"{path}[{i}]", depth + 1, budget)
                    for i, item in enumerate(value)
                ]
                return tuple(items) if isinstance(value, tuple) else items
            if isinstance(value, (bytes, bytearray)):
                text = bytes(value).decode("utf-8", "replace")
                redacted = self._text(text, sink, path, depth, budget, key)
                return value if redacted == text else redacted
            return self._text(str(value), sink, path, depth, budget, key)
        except Exception:
            sink.add("error", path)
            return REDACTED

    def _mapping(
        self,
        mapping: Mapping[Any, Any],
        sink: RedactionReport,
        path: str,
        depth: int,
        budget: _Budget,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        rules = self._keys.cached
        clean = self._clean
        secret_input = "input" in mapping and "loc" in mapping and self._loc_rule(mapping["loc"])
        clean_keys = self._clean_keys
        for raw_key, value in mapping.items():
            key = raw_key if type(raw_key) is str else str(raw_key)
            if key not in clean_keys:
                key = self._key_text(key, sink, path)
            if secret_input and key == "input" and value is not None:
                sink.add(secret_input, f"{path}.{key}" if path else key)
                result[key] = REDACTED
                continue
            # Fast path: a clean key with a value already known clean, or a small number.
            if rules.get(key, _MISSING) is None:
                kind = type(value)
                if (
                    (kind is str and value in clean and key not in _CONTEXT_KEYS)
                    or (kind is int and -(10**12) < value < 10**12)
                    or kind is float
                    or kind is bool
                    or value is None
                ):
                    result[key] = value
                    continue
            result[key] = self._value(
                value, key, sink, f"{path}.{key}" if path else key, depth, budget
            )
        return result

    def _key_text(self, key: str, sink: RedactionReport, path: str) -> str:
        """A mapping key with secrets in it replaced (header names, logged JSON keys)."""
        if not key:
            return key
        hits: list[str] = []
        redacted = self._scan(key[: self._max_scan], hits)
        if hits:
            _record(sink, hits, f"{path}.(key)" if path else "(key)")
            return redacted
        if not self._rules and len(key) <= _CLEAN_CACHE_LEN:
            if len(self._clean_keys) >= _CLEAN_CACHE_MAX:
                self._clean_keys.clear()
            self._clean_keys[key] = None
        return key

    def _loc_rule(self, loc: Any) -> str | None:
        """The key rule for a validation error's ``loc`` (its last field name), or None."""
        if isinstance(loc, str):
            loc = (loc,)
        if not isinstance(loc, (list, tuple)):
            return None
        for part in reversed(loc):
            if isinstance(part, str):
                return self._keys.rule_for(part)
        return None

    def _sequence_keys(self, items: list[Any] | tuple[Any, ...]) -> dict[int, str]:
        """Keys for sequence items named by their neighbour.

        ``["--password", "x"]`` (an argument list) and ``("x-api-key", "x")`` (a
        header pair, also as bytes) give the value the name's key rule.
        """
        keys: dict[int, str] = {}
        count = len(items)
        if count < 2:
            return keys
        pair = count == 2
        for index in range(count - 1):
            name = items[index]
            if isinstance(name, (bytes, bytearray)) and len(name) <= 66:
                name = bytes(name).decode("latin-1")
            if type(name) is not str or len(name) > 66:
                continue
            flag = _FLAG.fullmatch(name) if name.startswith("-") else None
            if flag is not None:
                key = flag.group(1)
            elif pair and _PAIR_KEY.fullmatch(name) is not None:
                key = name
            else:
                continue
            if self._keys.rule_for(key) is not None:
                keys[index + 1] = key
        return keys

    def _int(self, value: int, sink: RedactionReport, path: str) -> int | str:
        if 10**12 <= value < 10**19:
            digits = str(value)
            if digits[0] in "23456" and luhn_valid(digits):
                sink.add("card", path)
                return REDACTED
        return value

    def _text(
        self,
        text: str,
        sink: RedactionReport,
        path: str,
        depth: int = 0,
        budget: _Budget | None = None,
        key: str | None = None,
    ) -> str:
        if not text:
            return text
        if text in self._clean:
            return text
        truncated = len(text) > self._max_scan and not (
            # already cut to the limit upstream (the log values): scan it all, cut nothing
            len(text) <= self._max_scan + len(TRUNCATED) and text.endswith(TRUNCATED)
        )
        window = text[: self._max_scan + _SCAN_MARGIN] if truncated else text
        hits: list[str] = []
        result = self._json(window, sink, path, depth, budget)
        if result is None:
            result = self._scan(window, hits, key)
            _record(sink, hits, path)
        if truncated:
            sink.add("truncated", path)
            return result[: self._max_scan] + TRUNCATED
        if (
            result is text
            and not self._rules
            and len(text) <= _CLEAN_CACHE_LEN
            and key not in _URL_KEYS
        ):
            if len(self._clean) >= _CLEAN_CACHE_MAX:
                self._clean.clear()
            self._clean[text] = None
        return result

    def _json(
        self,
        text: str,
        sink: RedactionReport,
        path: str,
        depth: int,
        budget: _Budget | None,
    ) -> str | None:
        """Redact JSON found in ``text`` structurally; ``None`` if it is not JSON."""
        if text[0] not in '{[" \t\r\n':
            return None
        stripped = text.strip()
        if len(stripped) < 2 or stripped[0] not in '{["' or stripped[-1] not in '}]"':
            return None
        if depth >= self._max_depth:
            return None
        try:
            parsed = json.loads(stripped)
        except (ValueError, RecursionError):
            return None
        if isinstance(parsed, str):  # a JSON document encoded again as a JSON string
            if not parsed or parsed[0] not in '{["':
                return None
            before = sink.count
            inner = self._text(parsed, sink, path, depth + 1, budget)
            return text if sink.count == before else _dumps(inner)
        if not isinstance(parsed, (dict, list)):
            return None
        before = sink.count
        redacted = self._value(
            parsed, None, sink, path, depth + 1, budget or _Budget(self._max_nodes)
        )
        if sink.count == before:
            return text
        return _dumps(redacted)

    def _scan(self, text: str, hits: list[str], key: str | None = None) -> str:
        literal = _has_literal(text)
        digits = _DIGITS.search(text) is not None
        run = _RUN.search(text) is not None
        if literal:
            if "-----BEGIN " in text:
                text = redact_pem(text, hits)
            if "://" in text:
                text = URL_IN_TEXT.sub(
                    lambda m: redact_url(m.group(0), self._keys.rule_for, hits), text
                )
            if "//" in text and "@" in text:
                text = _redact_relative_userinfo(text, hits)
            if "=" in text and key not in _URL_KEYS:  # those were read as URLs
                if "?" in text:
                    text = QUERY_IN_TEXT.sub(
                        lambda m: "?" + redact_query(m.group(1), self._keys.rule_for, hits), text
                    )
                if "#" in text:
                    text = FRAGMENT_IN_TEXT.sub(
                        lambda m: "#" + redact_query(m.group(1), self._keys.rule_for, hits), text
                    )
            if self._pair_hint.search(text) is not None:
                text = redact_pairs(text, self._keys.rule_for, hits)
            if "input" in text:
                text = redact_validation(text, self._keys.rule_for, hits)
        if run and "/" in text:
            text = redact_path_secrets(text, self._keys.rule_for, hits)
        if literal or digits or run:
            for pattern, hint in self._patterns:
                needs = pattern.needs
                if (
                    literal if needs == "literal" else digits if needs == "digits" else run
                ) and hint.search(text) is not None:
                    text = _apply(pattern, text, hits)
        for pattern, hint in self._pii:
            if hint.search(text) is not None:
                text = _apply(pattern, text, hits)
        for pattern in self._custom:
            text = _apply(pattern, text, hits)
        for rule in self._rules:
            replaced = rule(key, text)
            if replaced is not None and replaced != text:
                hits.append(getattr(rule, "__name__", "custom_rule"))
                text = replaced
        return text


# Every built-in rule needs one of these substrings, a run of 4 digits (cards,
# IBANs) or a long token run (cloud tokens); checking them is far cheaper than
# running the patterns.  PII and user patterns are not gated.
_GATE_LITERALS = (
    ":",
    "=",
    "eyJ",
    "earer",
    "EARER",
    "asic",
    "ASIC",
    "oken",
    "OKEN",
    "xox",
    " -",
    "\t-",
    "\n-",
    "---",
    "',",
    '",',
)
_DIGITS = re.compile(r"[0-9]{4}")


def _redact_relative_userinfo(text: str, hits: list[str]) -> str:
    """``//user:pass@host`` (a scheme-relative URL) in free text: the userinfo replaced."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == f"//{REDACTED}:{REDACTED}@":
            return match.group(0)
        hits.append("url_userinfo")
        return f"//{REDACTED}:{REDACTED}@"

    return RELATIVE_USERINFO_IN_TEXT.sub(replace, text)


def _has_literal(text: str) -> bool:
    if text[0] == "-":
        return True
    for literal in _GATE_LITERALS:  # noqa: SIM110 - a plain loop is faster than any()
        if literal in text:
            return True
    return False


_RUN = re.compile(r"[A-Za-z0-9_\-]{16}")


def _apply(pattern: ValuePattern, text: str, hits: list[str]) -> str:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if pattern.validator is not None and not pattern.validator(match):
            return match.group(0)
        count += 1
        if pattern.group == 0:
            return REDACTED
        whole = match.group(0)
        base = match.start()
        return (
            whole[: match.start(pattern.group) - base]
            + REDACTED
            + whole[match.end(pattern.group) - base :]
        )

    result = pattern.regex.sub(replace, text)
    if count:
        hits.extend([pattern.name] * count)
        return result
    return text


def _dumps(value: Any) -> str:
    """JSON text for a redacted document, readable (non-ASCII kept) unless that would
    write characters UTF-8 cannot hold (lone surrogates parsed from ``\\ud800``)."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # escaped again, as they were in the input
            return json.dumps(value)
    return text


def _record(sink: RedactionReport, hits: list[str], path: str) -> None:
    if not hits:
        return
    for rule, times in Counter(hits).items():
        sink.add(rule, path, times)


def _safe_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    try:
        return list(mapping)
    except Exception:
        return []
