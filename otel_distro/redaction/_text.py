"""Free-text rules: ``key=value`` fragments and PEM private-key blocks.

Used on log messages, exception messages, tracebacks, command lines and span
names.  Both scanners move strictly forward through the text (linear time).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._keys import JWK_PRIVATE_MEMBERS, KeyRules, counts_tokens, looks_generated, query_rule
from ._marker import REDACTED

__all__ = ["PAIR_HINT", "redact_pairs", "redact_pem", "redact_validation"]

KeyRule = Callable[[str], "str | None"]

# ``--flag value`` / ``--flag=value``, or ``key=value`` / ``key: value`` /
# ``"key": "value"`` (also with escaped quotes, ``\"key\": \"value\"``, escaped again
# as a repr of JSON text shows them), or a
# ``('key', 'value')`` pair as Python prints tuples of headers or arguments; the
# key may only start at a run boundary, or right after digits (``1111--password=``,
# ``4111.1111.1111.1111-token:``: a number glued before a key is never part of it).
_KEY = r"[^\W\d][\w.\-\u200b-\u200d\u2060\ufeff]{0,63}"  # letters of any script (look-alikes)
_PAIR = re.compile(
    r"(?:(?<![\w.\-])--?([A-Za-z][A-Za-z0-9_.\-]{0,63})(?:=|[ \t]+)"
    r"|(?:(?<![\w.\-])|(?<=[0-9])|(?<=[0-9][.\-])|(?<=[0-9][.\-]{2}))"
    r"(" + _KEY + r")(?:\\{0,7}[\"'])?[ \t]{0,3}([:=])[ \t]{0,3}"
    r"|(?<![\w.\-])b?([\"'])(" + _KEY + r")\4,[ \t]{0,3}(?=b?[\"'])"
    # a quoted dict key that starts with a digit (``{'3x6s...': ...}``): only ever a token
    r"|(?<=[\"'])([0-9][\w.\-]{23,63})(?=[\"'][ \t]{0,3}:))"
)
PAIR_HINT = r"[:=]|(?:^|\s)-|[\"'],"
# An ``Authorization`` value's scheme word (``Bearer``, ``ApiKey``, ``SSWS``, ...): the
# credential after it is the value.  ``Digest`` parameters run to the end of the line.
_SCHEME = re.compile(
    r"(?i:(?:bearer|basic|digest|token|negotiate|api-?key|ssws|key|splunk|hmac|hawk|ntlm|oauth"
    r"|mac|dpop|sso-key|dsn|geniekey|sharedaccesssignature|aws4-hmac-sha256)[ \t]+)"
    r"|[A-Za-z][A-Za-z\-]{1,24}[ \t]+"
    r"(?=[A-Za-z0-9._~+/\-]{20}|[A-Za-z0-9._~+/\-]{0,19}[0-9]|REDACTED)"
)
_SCHEME_RULES = frozenset({"auth", "api_key", "token", "credential"})
_UNQUOTED = re.compile(r"[^\s,;&\"'<>()\[\]{}]+")
_LINE = re.compile(r"[^\r\n]+")
# the value member after a sensitive name member of a name/value pair in JSON text
_NAMED_VALUE = re.compile(
    r"([\"'])(?:value|Value|ParameterValue)\1[ \t]{0,3}:[ \t]{0,3}([\"'])([^\"'\n]{1,4096})\2"
)
# ``auth=('user', 'password')`` (requests, httpx, aiohttp): the second item is the value
_AUTH_PAIR = re.compile(
    r"\([ \t]{0,3}b?([\"'])[^\"'\n]{0,256}\1,[ \t]{0,3}b?[\"']([^\"'\n]{1,1024})[\"']"
)
# SQL/format placeholders (``token = $1``, ``password=%s``) are not secrets.
_PLACEHOLDER = re.compile(r"(?:\?|\$[0-9]{1,3}|%s|%\([A-Za-z0-9_]{1,64}\)s)(?![A-Za-z0-9_])")


def _after_colon(text: str, start: int) -> bool:
    """Whether ``text[start]`` follows a ``:`` (spaces between; a bounded look back)."""
    return text[max(start - 4, 0) : start].rstrip(" \t")[-1:] == ":"


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
    if first == "\\":  # escaped JSON, also escaped again as a repr of JSON text shows it
        after = start
        while after < len(text) and after - start < 8 and text[after] == "\\":
            after += 1
        opener = text[start : after + 1]
        if opener[-1:] in ("'", '"'):
            end = text.find(opener, after + 1)
            return after + 1, len(text) if end == -1 else end
    if first == "(":  # ``auth=('user', 'password')``: the pair's second item
        pair = _AUTH_PAIR.match(text, start)
        return (pair.start(2), pair.end(2)) if pair is not None else (start, start)
    if first in "{[":
        return start, start
    if _PLACEHOLDER.match(text, start) is not None or text.startswith(REDACTED, start):
        return start, start
    scheme = _SCHEME.match(text, start) if rule in _SCHEME_RULES else None
    whole_line = colon and rule == "cookie"
    if scheme is not None:
        start = scheme.end()
        whole_line = whole_line or scheme.group(0)[:6].lower() == "digest"
    finder = _LINE if whole_line else _UNQUOTED
    found = finder.match(text, start)
    return (start, found.end()) if found is not None else (start, start)


def redact_pairs(text: str, keys: KeyRules, hits: list[str], *, jwk: bool = False) -> str:
    """Replace the values of ``key=value``-like fragments whose key is sensitive.

    Keys that decide by the value's shape (``APP_SIGNING_KEY=...``, ``PWD=/srv``,
    ``-p 8080``) are read with their value; with ``jwk`` (the text holds a JSON Web
    Key) its private members (``"d": ...``) are secrets too.
    """
    rule_for = keys.rule_for
    out: list[str] = []
    last = 0
    pos = 0
    length = len(text)
    while pos < length:
        match = _PAIR.search(text, pos)
        if match is None:
            break
        flag = match.group(1)
        if match.group(6) is not None:  # a digit-led quoted key: masked only if generated
            if looks_generated(match.group(6), strict=True):
                out.append(text[last : match.start(6)])
                out.append(REDACTED)
                hits.append("generated_key")
                last = match.end(6)
            pos = match.end()
            continue
        key = flag or match.group(2) or match.group(5)
        rule = None if flag is not None and len(flag) == 1 else rule_for(key)
        if rule is None and jwk and key in JWK_PRIVATE_MEMBERS and flag is None:
            rule = "private_key"
        if rule is None and match.start() > 0 and text[match.start() - 1] in "?&;":
            rule = query_rule(key, rule_for)
        if match.group(5) is not None and _after_colon(text, match.start()):
            # not a printed pair but a JSON value: ``"name": "DB_PASSWORD", "value": "x"``
            named = _NAMED_VALUE.match(text, match.end()) if rule is not None else None
            if rule is None or named is None or named.group(3).startswith(REDACTED):
                pos = match.end()
                continue
            out.append(text[last : named.start(3)])
            out.append(REDACTED)
            hits.append(rule)
            last = pos = named.end(3)
            continue
        shaped = rule is None and (flag is not None or keys.conditional(key) is not None)
        if flag is None and looks_generated(key, strict=True):
            # a token as a dict key (also one that happens to hold a key word: ``...2pwP``)
            out.append(text[last : match.start(2) if match.group(2) else match.start(5)])
            out.append(REDACTED)
            hits.append("generated_key")
            last = match.end(2) if match.group(2) else match.end(5)
        if rule is None and not shaped:
            pos = match.end()
            continue
        start, end = _value_span(text, match.end(), rule or "shaped", match.group(3) == ":")
        value = text[start:end]
        if shaped:
            rule = keys.flag_rule(key, value) if flag is not None else None
            if flag is None:
                rule = keys.conditional_rule(key, value)
            if rule is None:
                pos = match.end()
                continue
        if (
            rule is None
            or not value
            or value.startswith(REDACTED)
            or counts_tokens(rule, key, value)
        ):
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
_PEM_HEADER = re.compile(r"[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")


def redact_pem(text: str, hits: list[str]) -> str:
    """Replace whole PEM and PGP private-key blocks.

    An unterminated block is replaced to the end of the text, and an ``END`` marker
    with no ``BEGIN`` before it (the rest of a block split across log records) from
    the start of the text: every part of a split key is dropped.
    """
    out: list[str] = []
    last = 0
    pos = text.find(_PEM_BEGIN)
    orphan = _PEM_END.search(text, 0, pos if pos != -1 else len(text))
    if orphan is not None:
        out.append(REDACTED)
        hits.append("private_key")
        last = orphan.end()
        pos = text.find(_PEM_BEGIN, last)
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
