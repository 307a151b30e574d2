"""The engine's API: one :class:`Redactor` applies every rule to values and mappings.

Order for a string: key rules (whole value), then, on at most ``max_scan``
characters, JSON found in the string (structure-aware), then the text scan
(:mod:`._scan`: PEM blocks, URLs, ``key=value`` fragments, path segments,
encoded JSON, value patterns, user patterns, PII patterns and Python rules).
The walk over structures is :mod:`._walk`; what earlier calls learned is
:mod:`._cache`.  A value the engine fails on is replaced whole (fail closed).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from otel_distro._report import internal_error

from ._cache import CleanCache
from ._carry import TextCarry
from ._exceptions import redact_exception
from ._keys import KeyRules
from ._marker import REDACTED
from ._report import RedactionReport
from ._scan import Rule, TextScanner
from ._urls import redact_url
from ._walk import TRUNCATED, Budget, TreeWalker, record

__all__ = ["TRUNCATED", "Redactor", "Rule", "TextCarry"]


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
        self._scanner = TextScanner(self._keys, pii=pii, extra_patterns=extra_patterns, rules=rules)
        self._cache = CleanCache(self._keys)
        self._walker = TreeWalker(
            self._keys,
            self._scanner,
            self._cache,
            max_scan=max_scan,
            max_depth=max_depth,
            max_nodes=max_nodes,
        )
        self._max_scan = max_scan
        self._max_nodes = max_nodes
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
            f"Redactor(pii={self._scanner.pii}, custom_patterns={len(self._scanner.custom)},"
            f" rules={len(self._scanner.rules)}, max_scan={self._max_scan})"
        )

    def rule_for_key(self, key: str) -> str | None:
        """The key rule that makes ``key`` sensitive, or ``None``."""
        return self._keys.rule_for(key)

    def known_clean(self, text: Any, mapping: Mapping[Any, Any]) -> bool:
        """True when ``redact_text(text)`` and ``redact_mapping(mapping)`` would change nothing.

        Answers from what earlier calls learned (clean keys and strings seen
        before, small numbers), without scanning: a log event that repeats
        known-clean values skips the redaction pass.  ``False`` means "scan it".
        """
        return self._cache.known_clean(text, mapping)

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
        result = self._walker.value(value, key, sink, where, 0, Budget(self._max_nodes))
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
            result = self._walker.mapping(mapping, sink, path, 0, Budget(self._max_nodes))
        except Exception:  # the application's mapping (or a value in it) failed: fail closed
            sink.add("error", path)
            result = {str(k): REDACTED for k in _safe_keys(mapping)}
        self._tally(sink, before)
        return result

    def redact_text(
        self,
        text: str,
        *,
        report: RedactionReport | None = None,
        path: str = "",
        carry: TextCarry | None = None,
    ) -> str:
        """Free text (message, traceback, command line) with secrets replaced.

        With ``carry`` (one per stream, e.g. per logger), a private key or a
        ``password:`` value split across consecutive texts is replaced in both.
        """
        sink = RedactionReport() if report is None else report
        before = sink.count
        try:
            if carry is not None:
                hits: list[str] = []
                text = carry.step(text, hits, self._keys.rule_for)
                record(sink, hits, path)
            result = self._walker.text(text, sink, path)
        except Exception:  # a string never fails by itself: ours; fail closed
            internal_error("redaction.text")
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
            redacted = redact_url(url, self._keys.rule_for, hits)
            result = self._walker.text(redacted, sink, path, as_url=True)
            record(sink, hits, path)
        except Exception:  # a string never fails by itself: ours; fail closed
            internal_error("redaction.url")
            sink.add("error", path)
            result = REDACTED
        self._tally(sink, before)
        return result

    def redact_exception(
        self,
        exc: BaseException,
        *,
        report: RedactionReport | None = None,
        path: str = "exception",
        parts: list[str] | None = None,
    ) -> BaseException:
        """``exc``, or a look-alike of it whose message, ``args``, notes, attributes and
        chained exceptions are redacted (same type name, traceback and frames); ``parts``
        collects the replaced substrings (see :mod:`._exceptions`)."""
        sink = RedactionReport() if report is None else report

        def text(value: str, where: str) -> str:
            return self.redact_text(value, report=sink, path=where)

        def value(item: Any, key: str | None, where: str) -> Any:
            return self.redact_value(item, key, report=sink, path=where)

        try:
            return redact_exception(exc, text, value, path, parts)
        except Exception:  # the application's exception misbehaves: the traceback text is
            internal_error("redaction.exception")  # redacted where it is printed
            return exc

    def counts(self) -> dict[str, int]:
        """Replacements so far in this process, by rule name."""
        with self._lock:
            return dict(self._totals)

    def _tally(self, sink: RedactionReport, before: int) -> None:
        if sink.count == before:
            return
        new = sink.take_new()
        with self._lock:
            self._totals.update(new)


def _safe_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    try:
        return list(mapping)
    except Exception:  # the application's mapping refuses iteration: no keys to show
        return []
