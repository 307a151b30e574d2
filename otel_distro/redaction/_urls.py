"""URL rules, applied textually (no parse/urlencode round trip).

Userinfo becomes ``REDACTED:REDACTED@``; the values of sensitive query (and
fragment) parameters become ``REDACTED`` with the key kept.  Everything else,
including ``%20`` versus ``+`` and valueless parameters, is left byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote, unquote_plus

from ._keys import counts_tokens, query_rule
from ._keytables import QUERY_SHAPED_KEYS
from ._marker import REDACTED
from ._shapes import looks_generated, looks_like_time

__all__ = [
    "FRAGMENT_IN_TEXT",
    "QUERY_IN_TEXT",
    "RELATIVE_USERINFO_IN_TEXT",
    "URL_IN_TEXT",
    "redact_query",
    "redact_url",
]

KeyRule = Callable[[str], "str | None"]

#: URLs with a scheme inside free text; starts only at a run boundary.
URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s\"'<>`]+")
#: A query string after ``?`` in free text (relative URLs: ``GET /p?token[]=x``).
QUERY_IN_TEXT = re.compile(r"\?([^\s#?\"'<>`]{1,8192})")
#: Userinfo of a scheme-relative URL in free text (``//user:pass@host/``).
RELATIVE_USERINFO_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9+.\-:/])//[^\s/?#@\"'<>`]*:[^\s/?#@\"'<>`]*@"
)
#: Fragment parameters after ``#`` in free text (``/download#sig=...``, OAuth implicit flow).
FRAGMENT_IN_TEXT = re.compile(r"#([^\s#?\"'<>`]{0,8192}=[^\s#?\"'<>`]{0,8192})")
_SEPARATOR = re.compile(r"([&;])")
_NESTED_DEPTH = 3  # percent-encoded URLs inside parameter values, decoded this deep


def _nested(value: str, rule_for: KeyRule, hits: list[str], depth: int) -> str | None:
    """A parameter value that is itself an encoded URL or query, redacted; None if clean."""
    if depth >= _NESTED_DEPTH or "%" not in value:
        return None
    decoded = unquote_plus(value)
    levels = 1  # encoded more than once: decode until a URL or query shows
    while "=" not in decoded and "@" not in decoded and "%" in decoded:
        if levels + depth >= _NESTED_DEPTH:
            return None
        decoded = unquote_plus(decoded)
        levels += 1
    if "=" not in decoded and "@" not in decoded:
        return None
    before = len(hits)
    if "?" in decoded or "://" in decoded:
        redacted = _redact_url(decoded, rule_for, hits, depth + levels)
    else:
        redacted = _redact_query(decoded, rule_for, hits, depth + levels)
    if len(hits) == before:
        return None
    for _ in range(levels):
        redacted = quote(redacted, safe="")
    return redacted


def _shaped_rule(name: str, value: str) -> str | None:
    """The rule for a parameter decided by its value: a short signed-link name holding a
    generated value that is not a time, or any parameter holding a strongly token-like
    value (24+ characters mixing cases and digits, high entropy)."""
    plain = unquote(value) if "%" in value else value  # ``+`` kept: base64 values hold it
    rule = QUERY_SHAPED_KEYS.get(name.lower().replace("-", "_"))
    if rule is not None and looks_generated(plain) and not looks_like_time(plain):
        return rule
    if len(plain) >= 24 and looks_generated(plain, strict=True):
        return "url_query"
    return None


def redact_query(query: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Redact sensitive parameter values in ``a=1&b=2`` (``;`` also separates).

    Keys are read percent-decoded (``pass%77ord``), and a value that is itself an
    encoded URL or query (``redirect=https%3A%2F%2Fx%3Ftoken%3D...``) is redacted inside.
    """
    return _redact_query(query, rule_for, hits, 0)


def _redact_query(query: str, rule_for: KeyRule, hits: list[str], depth: int) -> str:
    if "=" not in query:
        return query
    parts = _SEPARATOR.split(query)
    changed = False
    for index in range(0, len(parts), 2):
        name, sep, value = parts[index].partition("=")
        if not sep or not value or value == REDACTED:
            continue
        decoded = unquote_plus(name[:256]) if "%" in name or "+" in name else name[:256]
        rule = query_rule(decoded, rule_for)
        if rule is None:
            rule = _shaped_rule(decoded, value)
        if rule is None or counts_tokens(rule, decoded, value):
            inner = None if rule is not None else _nested(value, rule_for, hits, depth)
            if inner is not None:
                parts[index] = f"{name}={inner}"
                changed = True
            continue
        parts[index] = f"{name}={REDACTED}"
        hits.append(rule)
        changed = True
    return "".join(parts) if changed else query


def _first_of(text: str, chars: str, start: int) -> int:
    end = len(text)
    for char in chars:
        found = text.find(char, start, end)
        if found != -1:
            end = found
    return end


def _raw_userinfo_end(url: str, start: int) -> int:
    """The ``@`` ending a userinfo whose password holds a raw ``#`` or ``?``
    (``mysql://app:pa#ss@db/main``, as DSNs are often written), or -1.

    The part before the ``@`` must be ``user:password`` (the user may be empty) with no
    ``/`` or space, and what follows the colon up to the ``#``/``?`` must not be a port
    (``host:8080?a=b@c``).
    """
    slash = _first_of(url, "/", start)
    at = url.rfind("@", start, slash)
    if at == -1:
        return -1
    userinfo = url[start:at]
    colon = userinfo.find(":")
    if colon < 0 or any(c.isspace() for c in userinfo):
        return -1
    before_mark = userinfo[colon + 1 : _first_of(userinfo, "?#", colon + 1)]
    return -1 if before_mark.isdigit() else at


def redact_url(url: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Redact userinfo, sensitive query values and fragment parameters of ``url``."""
    return _redact_url(url, rule_for, hits, 0)


def _redact_url(url: str, rule_for: KeyRule, hits: list[str], depth: int) -> str:
    scheme_end = url.find("://")
    # the authority starts after ``scheme://``, or after ``//`` of a scheme-relative URL
    start = scheme_end + 3 if scheme_end != -1 else (2 if url.startswith("//") else -1)
    if start != -1:
        end = _first_of(url, "/?#", start)
        at = url.rfind("@", start, end)
        if at == -1 and end < len(url) and url[end] in "?#":
            at = _raw_userinfo_end(url, start)
        if at != -1 and url[start:at] != f"{REDACTED}:{REDACTED}":
            url = f"{url[:start]}{REDACTED}:{REDACTED}{url[at:]}"
            hits.append("url_userinfo")
    hash_at = url.find("#")
    head, fragment = (url, "") if hash_at == -1 else (url[:hash_at], url[hash_at:])
    q_at = head.find("?")
    if q_at != -1:
        head = head[: q_at + 1] + _redact_query(head[q_at + 1 :], rule_for, hits, depth)
    if fragment:
        fragment = "#" + _redact_query(fragment[1:], rule_for, hits, depth)
    return head + fragment
