"""The text scan: every free-text rule applied to one string, behind cheap gates.

Order: PEM blocks, URLs (with scheme, scheme-relative userinfo, ``?query`` and
``#fragment`` parameters of relative URLs), ``key=value`` fragments, validation
errors, path segments, dotted and colon-joined names, numeric codes in prose, value
patterns, PII patterns, user patterns, Python rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ._codes import CODE_HINT, redact_codes
from ._keys import KeyRules
from ._marker import REDACTED
from ._names import NAME_HINT, redact_names
from ._paths import redact_paths
from ._patterns import BUILTIN_PATTERNS, PII_PATTERNS, ValuePattern, custom_pattern
from ._prose import redact_encoded_pairs, redact_form_fields, redact_spaced, redact_xml
from ._text import PAIR_HINT, redact_pairs, redact_pem, redact_validation
from ._urls import (
    FRAGMENT_IN_TEXT,
    QUERY_IN_TEXT,
    RELATIVE_USERINFO_IN_TEXT,
    URL_IN_TEXT,
    redact_query,
    redact_url,
)

__all__ = ["Rule", "TextScanner"]

#: A Python rule: ``rule(key, text)`` returns the new text, or ``None`` for no change.
Rule = Callable[[str | None, str], str | None]

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
    "ASSWORD",
    "assword",
    "DENTIFIED",
    "dentified",
    "SSWS",
    "piKey",
    "PIKEY",
    "pikey",
    "KeyError",
    "%7B",
    "%7b",
    "Q~",
    "</",
)
_DIGITS = re.compile(r"[0-9]{4}")
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_PASSES = 3
# a replacement that joins a word (or a dotted/colon-joined name) may make a new context
_GLUED = re.compile(r"[A-Za-z0-9_.:]REDACTED|REDACTED[A-Za-z0-9_.:]")
# a path segment long enough to be replaced (8+ characters; see ._paths)
_LONG_SEGMENT = re.compile(r"/[A-Za-z0-9_.~%+=\-@!$*,;:]{8}")
_ENCODED = re.compile(r"%7[Bb]|eyJ|eyAi|W3si|WyI")
_RUN = re.compile(r"[A-Za-z0-9_\-]{16}")


_META = frozenset("[](){}*+?^$\\")


def _hint(hint: str) -> re.Pattern[str] | tuple[bool, tuple[str, ...]]:
    """A hint as plain substrings ``(case-folded, words)`` when it is an alternation of
    literals (``in`` is far cheaper than a regex search), else the compiled regex."""
    folded = hint.startswith("(?i:") and hint.endswith(")")
    inner = hint[4:-1] if folded else hint
    words: list[str] = []
    for part in inner.split("|"):
        part = part.replace("\\.", ".")
        if part.count("-?") == 1:
            head, tail = part.split("-?")
            variants = [head + tail, head + "-" + tail]
        else:
            variants = [part]
        for variant in variants:
            if not variant or any(c in _META for c in variant):
                return re.compile(hint)
            words.append(variant.lower() if folded else variant)
    return folded, tuple(words)


def _has_literal(text: str) -> bool:
    if text[0] == "-":
        return True
    for literal in _GATE_LITERALS:  # noqa: SIM110 - a plain loop is faster than any()
        if literal in text:
            return True
    return False


class TextScanner:
    """Applies the free-text rules to a string; ``hits`` collects rule names."""

    def __init__(
        self,
        keys: KeyRules,
        *,
        pii: bool,
        extra_patterns: Iterable[str],
        rules: Iterable[Rule],
    ) -> None:
        self._keys = keys
        self._patterns = [(p, _hint(p.hint)) for p in BUILTIN_PATTERNS]
        self._pii = [(p, _hint(p.hint)) for p in PII_PATTERNS] if pii else []
        self.custom = [custom_pattern(i, p) for i, p in enumerate(extra_patterns, 1)]
        self.rules = tuple(rules)
        self._pair_hint = re.compile(PAIR_HINT)

    @property
    def pii(self) -> bool:
        """Whether PII patterns run."""
        return bool(self._pii)

    def scan(
        self,
        text: str,
        hits: list[str],
        key: str | None = None,
        *,
        as_url: bool = False,
        decoded: Callable[[str, list[str]], str] | None = None,
    ) -> str:
        """``text`` with every rule applied; ``as_url`` when it was already read as a URL.

        ``decoded(text, hits)`` redacts percent- or base64-encoded JSON inside the text.
        A replacement glued to a word can make a new context (``10.0.0.1password=x``
        becomes ``REDACTEDpassword=x``), so such a text is scanned again, up to three
        passes: redacting redacted text changes nothing.
        """
        for _ in range(_PASSES):
            before = len(hits)
            result = self._scan(text, hits, key, as_url, decoded)
            if len(hits) == before or result == text or _GLUED.search(result) is None:
                return result
            text = result
        return text

    def _scan(
        self,
        text: str,
        hits: list[str],
        key: str | None,
        as_url: bool,
        decoded: Callable[[str, list[str]], str] | None,
    ) -> str:
        literal = _has_literal(text)
        digits = _DIGITS.search(text) is not None
        run = _RUN.search(text) is not None
        rule_for = self._keys.rule_for
        if literal:
            if "-----" in text:
                text = redact_pem(text, hits)
            if "://" in text:
                text = URL_IN_TEXT.sub(lambda m: redact_url(m.group(0), rule_for, hits), text)
            if "//" in text and "@" in text:
                text = _redact_relative_userinfo(text, hits)
            if "=" in text and not as_url:  # URL attributes were read as URLs
                if "?" in text:
                    text = QUERY_IN_TEXT.sub(
                        lambda m: "?" + redact_query(m.group(1), rule_for, hits), text
                    )
                if "#" in text:
                    text = FRAGMENT_IN_TEXT.sub(
                        lambda m: "#" + redact_query(m.group(1), rule_for, hits), text
                    )
            if self._pair_hint.search(text) is not None:
                text = redact_pairs(text, self._keys, hits, jwk="kty" in text)
            if "input" in text:
                text = redact_validation(text, rule_for, hits)
            if "</" in text:
                text = redact_xml(text, rule_for, hits)
            if "<" in text or "form-data" in text or "login" in text:
                text = redact_form_fields(text, rule_for, hits)
            if "%3" in text or "%25" in text:
                text = redact_encoded_pairs(text, rule_for, hits)
        if run:
            text = redact_spaced(text, rule_for, hits)
        if "/" in text and _LONG_SEGMENT.search(text) is not None:
            text = redact_paths(text, rule_for, hits)
        if decoded is not None and (literal or run) and _ENCODED.search(text) is not None:
            text = decoded(text, hits)
        if literal or digits or run:
            lower: str | None = None
            for pattern, hint in self._patterns:
                needs = pattern.needs
                if not (literal if needs == "literal" else digits if needs == "digits" else run):
                    continue
                if isinstance(hint, tuple):
                    folded, words = hint
                    if folded and lower is None:
                        lower = text.lower()
                    haystack = lower if folded and lower is not None else text
                    if not any(word in haystack for word in words):
                        continue
                elif hint.search(text) is None:
                    continue
                text = apply(pattern, text, hits)
                lower = None
        if ("." in text or ":" in text) and NAME_HINT.search(text) is not None:
            text = redact_names(text, rule_for, hits)
        if digits or _THREE_DIGITS.search(text) is not None:  # ``482 913``
            lowered = text.lower()
            if any(word in lowered for word in CODE_HINT):
                text = redact_codes(text, hits)
        for pattern, hint in self._pii:
            if (
                any(word in text for word in hint[1])
                if isinstance(hint, tuple)
                else hint.search(text) is not None
            ):
                text = apply(pattern, text, hits)
        for pattern in self.custom:
            text = apply(pattern, text, hits)
        for rule in self.rules:
            replaced = rule(key, text)
            if replaced is not None and replaced != text:
                hits.append(getattr(rule, "__name__", "custom_rule"))
                text = replaced
        return text


def _redact_relative_userinfo(text: str, hits: list[str]) -> str:
    """``//user:pass@host`` (a scheme-relative URL) in free text: the userinfo replaced."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == f"//{REDACTED}:{REDACTED}@":
            return match.group(0)
        hits.append("url_userinfo")
        return f"//{REDACTED}:{REDACTED}@"

    return RELATIVE_USERINFO_IN_TEXT.sub(replace, text)


def apply(pattern: ValuePattern, text: str, hits: list[str]) -> str:
    """``text`` with the matches of ``pattern`` (or its group) replaced."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if pattern.validator is not None and not pattern.validator(match):
            return match.group(0)
        whole = match.group(0)
        if pattern.group == 0:
            if whole == REDACTED:
                return whole
            count += 1
            return REDACTED
        if match.group(pattern.group) == REDACTED:
            return whole
        count += 1
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
