"""Looser free-text forms: XML elements, percent-encoded pairs, ``key <token>`` in prose.

``<Password>x</Password>`` (also namespaced, with attributes) is read by the element's
local name; ``password%3Dx`` (encoded once or more outside a query) by the decoded key;
a sensitive word followed by a space and a generated-looking token (``api_key
a8F3...``) loses the token.  Each scanner moves forward through the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from ._marker import REDACTED
from ._shapes import looks_generated
from ._urls import redact_query

__all__ = ["redact_encoded_pairs", "redact_form_fields", "redact_spaced", "redact_xml"]

KeyRule = Callable[[str], "str | None"]

_XML = re.compile(
    r"<(?:[A-Za-z_][\w.\-]{0,63}:)?([A-Za-z_][\w.\-]{0,63})(?:[ \t][^<>]{0,512})?>"
    r"([^<]{1,4096})</(?:[A-Za-z_][\w.\-]{0,63}:)?\1>"
)
_ENCODED_RUN = re.compile(
    r"(?<![A-Za-z0-9_.~+%\-])[A-Za-z0-9_.~+\-]{0,256}"
    r"(?:%[0-9A-Fa-f]{2}[A-Za-z0-9_.~+\-]{0,256}){1,512}"
)
_SPACED = re.compile(
    r"(?<![\w.\-])([A-Za-z_][\w.\-]{0,63})[ \t]{1,3}\\?[\"'`]?([A-Za-z0-9_\-+/=.~:]{16,512})"
    r"(?![\w\-+/=.~:])"
)
_LEVELS = 3
# ``<input name="csrfmiddlewaretoken" value="...">``, ``<meta name="csrf-token" content="...">``
# (the tag may be cut: a span name or a repr shortened before its ``>``)
# (any element: ``<add key="ApiKey" value="...">`` in .NET configuration too)
_TAG = re.compile(r"<[A-Za-z][\w:.\-]{0,63}[ \t]([^<>]{1,1024})")
_ATTR = re.compile(
    r"(?i)(?<![\w\-])(name|id|key|value|content)[ \t]*=[ \t]*([\"'])([^\"'<>]{0,4096})(?:\2|$)"
)
# a ``.netrc`` line: ``machine <host> login <user> password <password>``
_NETRC = re.compile(r"(?<![\w.\-])login[ \t]+[^\s]{1,256}[ \t]+password[ \t]+([^\s]{1,256})")
# a multipart part: ``form-data; name="password"``, its headers, a blank line, the value
_PART = re.compile(
    # (line breaks as written, or as a repr shows them: ``\\r\\n``)
    r"(?i)form-data;[ \t]*name=([\"'])([^\"'\r\n\\]{1,64})\1[^\r\n\\]{0,256}(?:\\r)?(?:\\n|\r?\n)"
    r"(?:[A-Za-z][A-Za-z0-9\-]{0,63}:[^\r\n\\]{0,256}(?:\\r)?(?:\\n|\r?\n)){0,4}"
    r"(?:\\r)?(?:\\n|\r?\n)((?:[^\r\n\\]|\\(?![rn])){1,4096})"
)


def redact_xml(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace the text of XML elements whose (local) name is sensitive."""

    def replace(match: re.Match[str]) -> str:
        value = match.group(2)
        rule = rule_for(match.group(1))
        if rule is None or value == REDACTED or not value.strip():
            return match.group(0)
        hits.append(rule)
        start = match.start(2) - match.start()
        return match.group(0)[:start] + REDACTED + match.group(0)[start + len(value) :]

    return _XML.sub(replace, text)


def redact_encoded_pairs(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace sensitive ``key=value`` pairs inside percent-encoded runs (any depth up to 3)."""

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        decoded, levels = run, 0
        while "%" in decoded and levels < _LEVELS:
            decoded = unquote(decoded)
            levels += 1
        if "=" not in decoded:
            return run
        found: list[str] = []
        head, sep, query = decoded.partition("?")
        redacted = head + sep + redact_query(query, rule_for, found) if sep else None
        if not found:
            redacted = redact_query(decoded, rule_for, found)
        if not found or redacted is None:
            return run
        hits.extend(found)
        for _ in range(levels):
            redacted = quote(redacted, safe="")
        return redacted

    return _ENCODED_RUN.sub(replace, text)


def redact_spaced(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace a generated-looking token written after a sensitive word and a space."""

    def replace(match: re.Match[str]) -> str:
        value = match.group(2)
        rule = rule_for(match.group(1))
        if rule is None or REDACTED in value or not looks_generated(value, minimum=16):
            return match.group(0)
        hits.append(rule)
        return match.group(0)[: match.start(2) - match.start()] + REDACTED

    return _SPACED.sub(replace, text)


def redact_form_fields(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Replace the value of an element named like a secret (HTML ``input``/``meta``:
    ``csrfmiddlewaretoken``, ``csrf-token``; ``<add key="ApiKey" value=...>``), of a
    multipart ``form-data`` part named like one, and the password of a ``.netrc`` line."""

    def tag(match: re.Match[str]) -> str:
        attrs = {m.group(1).lower(): m for m in _ATTR.finditer(match.group(1))}
        named = attrs.get("name") or attrs.get("key") or attrs.get("id")
        held = attrs.get("value") or attrs.get("content")
        if named is None or held is None or held.group(3) in ("", REDACTED):
            return match.group(0)
        rule = rule_for(named.group(3))
        if rule is None:
            return match.group(0)
        hits.append(rule)
        offset, whole = match.start(1) - match.start(), match.group(0)
        return whole[: offset + held.start(3)] + REDACTED + whole[offset + held.end(3) :]

    def part(match: re.Match[str]) -> str:
        rule = rule_for(match.group(2))
        if rule is None or match.group(3) == REDACTED:
            return match.group(0)
        hits.append(rule)
        return match.group(0)[: match.start(3) - match.start()] + REDACTED

    def netrc(match: re.Match[str]) -> str:
        if match.group(1).startswith(REDACTED):
            return match.group(0)
        hits.append("password")
        return match.group(0)[: match.start(1) - match.start()] + REDACTED

    if "<" in text and ("value" in text or "content" in text or "VALUE" in text):
        text = _TAG.sub(tag, text)
    if "form-data" in text or "FORM-DATA" in text:
        text = _PART.sub(part, text)
    if "login" in text and "password" in text:
        text = _NETRC.sub(netrc, text)
    return text
