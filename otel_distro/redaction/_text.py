"""Free-text rules: ``key=value`` fragments and PEM private-key blocks.

Used on log messages, exception messages, tracebacks, command lines and span
names.  Both scanners move strictly forward through the text (linear time).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._keys import SENSITIVE_QUERY_KEYS, counts_tokens
from ._marker import REDACTED

__all__ = ["PAIR_HINT", "redact_pairs", "redact_path_secrets", "redact_pem", "redact_validation"]

KeyRule = Callable[[str], "str | None"]

# ``--flag value`` / ``--flag=value``, or ``key=value`` / ``key: value`` /
# ``"key": "value"`` (also with escaped quotes, ``\"key\": \"value\"``), or a
# ``('key', 'value')`` pair as Python prints tuples of headers or arguments; the
# key may only start at a run boundary.
_PAIR = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?:--?([A-Za-z][A-Za-z0-9_.\-]{0,63})(?:=|[ \t]+)"
    r"|([A-Za-z_][A-Za-z0-9_.\-]{0,63})(?:\\?[\"'])?[ \t]{0,3}([:=])[ \t]{0,3}"
    r"|b?([\"'])([A-Za-z_][A-Za-z0-9_.\-]{0,63})\4,[ \t]{0,3}(?=b?[\"']))"
)
PAIR_HINT = r"[:=]|(?:^|\s)-|[\"'],"
_SCHEME = re.compile(r"(?i:bearer|basic|digest|token|negotiate)[ \t]+")
_UNQUOTED = re.compile(r"[^\s,;&\"'<>()\[\]{}]+")
_LINE = re.compile(r"[^\r\n]+")
# SQL/format placeholders (``token = $1``, ``password=%s``) are not secrets.
_PLACEHOLDER = re.compile(r"(?:\?|\$[0-9]{1,3}|%s|%\([A-Za-z0-9_]{1,64}\)s)(?![A-Za-z0-9_])")


def _closing_quote(text: str, quote: str, start: int) -> int:
    index = text.find(quote, start)
    while index > 0 and text[index - 1] == "\\":
        index = text.find(quote, index + 1)
    return len(text) if index == -1 else index


def _value_span(text: str, start: int, rule: str, colon: bool) -> tuple[int, int]:
    """Where the value starting at ``start`` lies; (start, start) for none."""
    if start >= len(text):
        return start, start
    first = text[start]
    if first == "b" and text[start + 1 : start + 2] in ("'", '"'):  # a bytes literal
        start += 1
        first = text[start]
    if first in "\"'":
        return start + 1, _closing_quote(text, first, start + 1)
    if first == "\\" and text[start + 1 : start + 2] in ("'", '"'):  # escaped JSON
        end = text.find(text[start : start + 2], start + 2)
        return start + 2, len(text) if end == -1 else end
    if first in "{[":
        return start, start
    if _PLACEHOLDER.match(text, start) is not None:
        return start, start
    scheme = _SCHEME.match(text, start)
    if scheme is not None:
        start = scheme.end()
    finder = _LINE if (colon and rule == "cookie") else _UNQUOTED
    found = finder.match(text, start)
    return (start, found.end()) if found is not None else (start, start)


def redact_pairs(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace the values of ``key=value``-like fragments whose key is sensitive."""
    out: list[str] = []
    last = 0
    pos = 0
    length = len(text)
    while pos < length:
        match = _PAIR.search(text, pos)
        if match is None:
            break
        key = match.group(1) or match.group(2) or match.group(5)
        rule = rule_for(key)
        if (
            rule is None
            and key.lower() in SENSITIVE_QUERY_KEYS
            and match.start() > 0
            and text[match.start() - 1] in "?&;"
        ):
            rule = "url_query"
        if rule is None:
            pos = match.end()
            continue
        start, end = _value_span(text, match.end(), rule, match.group(3) == ":")
        value = text[start:end]
        if not value or value.startswith(REDACTED) or counts_tokens(rule, key, value):
            pos = max(end, match.end())
            continue
        out.append(text[last:start])
        out.append(REDACTED)
        hits.append(rule)
        last = pos = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


_PEM_BEGIN = "-----BEGIN "
_PEM_HEADER = re.compile(r"[A-Z0-9 ]{0,40}PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----")


def redact_pem(text: str, hits: list[str]) -> str:
    """Replace whole PEM private-key blocks (to the end of text if unterminated)."""
    out: list[str] = []
    last = 0
    pos = text.find(_PEM_BEGIN)
    while pos != -1:
        header = _PEM_HEADER.match(text, pos + len(_PEM_BEGIN))
        if header is None:
            pos = text.find(_PEM_BEGIN, pos + 1)
            continue
        end_match = _PEM_END.search(text, header.end())
        end = len(text) if end_match is None else end_match.end()
        out.append(text[last:pos])
        out.append(REDACTED)
        hits.append("private_key")
        last = end
        pos = text.find(_PEM_BEGIN, end)
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# pydantic's ``str(ValidationError)``: a line naming the field, then the message
# with ``input_value=...``; and the ``errors()`` dicts as printed (``'loc': (...)``
# ... ``'input': ...``).  The input is redacted when the field's name is sensitive.
_PYDANTIC_LINE = re.compile(
    r"(?m)^([^\n]{1,256})\n {2}[^\n]{0,2048}?\[type=[^\n,\]]{1,128}, input_value="
)
_LOC = re.compile(r"[\"']loc[\"']: ?[(\[]([^()\[\]\n]{0,512})[)\]]")
_INPUT = re.compile(r"[\"']input[\"']: ?")
_INPUT_WINDOW = 4096
_INPUT_END = ", input_type="


def _loc_rule(loc: str, rule_for: KeyRule) -> str | None:
    for part in reversed(re.split(r"[.,]", loc)):
        name = part.strip().strip("\"'")
        if name and not name.isdigit():
            return rule_for(name)
    return None


def redact_validation(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace the inputs that validation errors echo for sensitive fields."""
    spans: list[tuple[int, int, str]] = []
    if "input_value=" in text:
        for match in _PYDANTIC_LINE.finditer(text):
            rule = _loc_rule(match.group(1), rule_for)
            if rule is None:
                continue
            start = match.end()
            if text[start : start + 1] in ("'", '"'):
                start, end = start + 1, _closing_quote(text, text[start], start + 1)
            else:
                found = text.find(_INPUT_END, start, start + _INPUT_WINDOW)
                end = found if found != -1 else text.find("\n", start)
                end = len(text) if end == -1 else end
            spans.append((start, end, rule))
    if "input" in text:
        for match in _LOC.finditer(text):
            rule = _loc_rule(match.group(1), rule_for)
            if rule is None:
                continue
            following = _LOC.search(text, match.end(), match.end() + _INPUT_WINDOW)
            limit = following.start() if following else match.end() + _INPUT_WINDOW
            value = _INPUT.search(text, match.end(), limit)
            if value is None:
                continue
            start, end = _value_span(text, value.end(), rule, False)
            if end > start:
                spans.append((start, end, rule))
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end, rule in sorted(spans):
        if start < last or text.startswith(REDACTED, start):
            continue
        out.append(text[last:start])
        out.append(REDACTED)
        hits.append(rule)
        last = end
    out.append(text[last:])
    return "".join(out)


# ``/reset-password/<token>``, ``/api-keys/<key>``: a URL path segment after one
# whose name is sensitive, when it looks generated (16+ characters, letters and digits).
_PATH_PAIR = re.compile(
    r"(?<![A-Za-z0-9_.\-])([A-Za-z_][A-Za-z0-9_.\-]{0,63})/"
    r"([A-Za-z0-9_.~%+=\-]{16,512})(?![A-Za-z0-9_.~%+=\-])"
)


def _generated(segment: str) -> bool:
    return any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment)


def redact_path_secrets(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace generated-looking path segments that follow a sensitive segment."""
    out: list[str] = []
    last = 0
    pos = 0
    while True:
        match = _PATH_PAIR.search(text, pos)
        if match is None:
            break
        value = match.group(2)
        rule = rule_for(match.group(1))
        if rule is None or not _generated(value) or value.startswith(REDACTED):
            pos = match.start(2)  # the value may name the next segment
            continue
        out.append(text[last : match.start(2)])
        out.append(REDACTED)
        hits.append(rule)
        last = pos = match.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)
