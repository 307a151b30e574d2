"""Secrets inside dotted and colon-joined names: routing keys, subjects, ids.

``user.reset.<token>.sent`` (an AMQP routing key, a NATS subject), ``reset:<token>``
(a conversation or correlation id), ``session:<id>`` (a cache key), the local part of
a ``Message-ID`` (``<reset.<token>@host>``) are read segment
by segment like a URL path (:mod:`._paths`): after a segment naming a secret the next
three segments are replaced when they look generated, and anywhere a segment is
replaced when it is strongly token-like.  Host names, versions, module paths, times,
digests (``sha256:<hex>``) and UUIDs or numbers after ordinary words are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._marker import REDACTED
from ._paths import segment_rule
from ._shapes import looks_generated

__all__ = ["NAME_HINT", "redact_names"]

KeyRule = Callable[[str], "str | None"]

#: Cheap precondition: a separator followed by 8 segment characters.
NAME_HINT = re.compile(r"[.:][A-Za-z0-9_\-~]{8}")
_NAME = re.compile(
    r"(?<![A-Za-z0-9_\-~.:/%@])[A-Za-z0-9_\-~]{1,256}(?:[.:][A-Za-z0-9_\-~]{1,512}){1,16}"
    r"(?![A-Za-z0-9_\-~/]|[.:][A-Za-z0-9_\-~])"
)
_SEPARATORS = re.compile(r"([.:])")
_AFTER = 3


def redact_names(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """``text`` with secret-looking segments of dotted or colon-joined names replaced."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(0)
        parts = _SEPARATORS.split(name)
        changed = False
        armed = 0
        rule = "url_path"
        for index in range(0, len(parts), 2):
            segment = parts[index]
            if segment == REDACTED:
                armed = max(armed - 1, 0)
                continue
            if (armed and looks_generated(segment)) or looks_generated(segment, strict=True):
                parts[index] = REDACTED
                hits.append(rule if armed else "url_path")
                changed = True
                armed = max(armed - 1, 0)
                continue
            found = segment_rule(segment, rule_for)
            if found is not None:
                armed, rule = _AFTER, found
            else:
                armed = max(armed - 1, 0)
        return "".join(parts) if changed else name

    return _NAME.sub(replace, text)
