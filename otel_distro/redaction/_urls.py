"""URL rules, applied textually (no parse/urlencode round trip).

Userinfo becomes ``REDACTED:REDACTED@``; the values of sensitive query (and
fragment) parameters become ``REDACTED`` with the key kept.  Everything else,
including ``%20`` versus ``+`` and valueless parameters, is left byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from ._keys import SENSITIVE_QUERY_KEYS, counts_tokens
from ._marker import REDACTED

__all__ = ["URL_IN_TEXT", "redact_query", "redact_url"]

KeyRule = Callable[[str], "str | None"]

#: URLs with a scheme inside free text; starts only at a run boundary.
URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s\"'<>`]+")


def redact_query(query: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Redact sensitive parameter values in ``a=1&b=2`` (``;`` also separates)."""
    if "=" not in query:
        return query
    parts = re.split(r"([&;])", query)
    changed = False
    for index in range(0, len(parts), 2):
        name, sep, value = parts[index].partition("=")
        if not sep or not value or value == REDACTED:
            continue
        decoded = unquote_plus(name[:256]) if "%" in name or "+" in name else name[:256]
        rule = "url_query" if decoded.lower() in SENSITIVE_QUERY_KEYS else rule_for(decoded)
        if rule is None or counts_tokens(rule, decoded, value):
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


def redact_url(url: str, rule_for: KeyRule, hits: list[str]) -> str:
    """Redact userinfo, sensitive query values and fragment parameters of ``url``."""
    scheme_end = url.find("://")
    if scheme_end != -1:
        start = scheme_end + 3
        end = _first_of(url, "/?#", start)
        at = url.rfind("@", start, end)
        if at != -1 and url[start:at] != f"{REDACTED}:{REDACTED}":
            url = f"{url[:start]}{REDACTED}:{REDACTED}{url[at:]}"
            hits.append("url_userinfo")
    hash_at = url.find("#")
    head, fragment = (url, "") if hash_at == -1 else (url[:hash_at], url[hash_at:])
    q_at = head.find("?")
    if q_at != -1:
        head = head[: q_at + 1] + redact_query(head[q_at + 1 :], rule_for, hits)
    if fragment:
        fragment = "#" + redact_query(fragment[1:], rule_for, hits)
    return head + fragment
