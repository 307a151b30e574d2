"""Secrets carried as URL path segments: ``/reset/<token>``, ``/hooks/<id>/<token>``.

A path (in a URL, a request target, a span name or a log line) is read segment
by segment.  After a segment naming a secret (``reset``, ``keys``, ``hooks``,
``webhook``, ``services``, ``invite``, ... or any key-rule word such as
``password-reset``, ``api-keys``, ``tokens``) the next three segments are
replaced when they look generated (see :func:`._shapes.looks_generated`: digits
mixed with letters, mixed case, or long unseparated runs; a UUID counts).  Route
words (``rotate``, ``confirm-email``) and all-digit ids are kept.  Anywhere
else a segment is replaced only when it is strongly token-like (24+ characters
mixing upper case, lower case and digits, high entropy); plain ids, UUIDs and
hex hashes elsewhere are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from ._marker import REDACTED
from ._shapes import looks_generated

__all__ = ["SENSITIVE_SEGMENTS", "redact_paths", "segment_rule"]

KeyRule = Callable[[str], "str | None"]

#: Path segments after which the following segments are read as possible secrets.
SENSITIVE_SEGMENTS = frozenset(
    {
        "reset", "resets", "key", "keys", "token", "tokens", "hook", "hooks", "webhook",
        "webhooks", "services", "invite", "invites", "invitation", "invitations", "verify",
        "verification", "confirm", "confirmation", "activate", "activation", "magic",
        "magic-link", "magiclink", "unsubscribe", "share", "shared", "recover", "recovery",
        "otp", "secret", "secrets", "credentials", "apikey", "apikeys", "signin", "login",
        "sso", "saml", "oauth", "callback", "download", "downloads", "private", "passwordless",
        "onboarding", "claim", "redeem", "accept", "join", "s", "t", "bot", "sessions",
    }
)  # fmt: skip
_AFTER = 3  # segments read after a sensitive one
_SEG = r"[A-Za-z0-9_.~%+=\-@!$*,;:]{1,512}"
# ``/a/b``, or ``a/b`` (a relative path, a path logged without its leading slash)
_PATH = re.compile(
    r"(?<![A-Za-z0-9_.~%+=\-@!$*,;:])(?:/?" + _SEG + r"(?:/" + _SEG + r")+|/" + _SEG + r")/?"
)


def segment_rule(segment: str, rule_for: KeyRule) -> str | None:
    lowered = segment.lower()
    if lowered in SENSITIVE_SEGMENTS:
        return "url_path"
    if len(segment) > 64 or not segment[:1].isalpha():
        return None
    return rule_for(segment)


def redact_paths(text: str, rule_for: KeyRule, hits: list[str]) -> str:
    """``text`` with secret-looking path segments replaced (see the module docs)."""
    out: list[str] = []
    last = 0
    for match in _PATH.finditer(text):
        path = match.group(0)
        redacted = _redact_path(path, rule_for, hits)
        if redacted is not path:
            out.append(text[last : match.start()])
            out.append(redacted)
            last = match.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _redact_path(path: str, rule_for: KeyRule, hits: list[str]) -> str:
    segments = path.split("/")
    changed = False
    armed = 0  # segments left to read after a sensitive one
    rule = "url_path"
    for index, segment in enumerate(segments):
        if not segment or segment == REDACTED:
            armed = max(armed - 1, 0)
            continue
        plain = unquote(segment) if "%" in segment else segment
        # a marker left by an earlier pass is not part of what is judged (idempotence)
        plain = plain.replace(REDACTED, "") if REDACTED in plain else plain
        if not plain:
            armed = max(armed - 1, 0)
            continue
        if armed and looks_generated(plain):
            segments[index] = REDACTED
            hits.append(rule)
            changed = True
            armed -= 1
            continue
        if looks_generated(plain, strict=True):
            segments[index] = REDACTED
            hits.append("url_path")
            changed = True
            continue
        found = segment_rule(plain, rule_for)
        if found is None and "=" in plain:  # a path as a ``key=value`` value: ``k=invite/<t>``
            found = segment_rule(plain.rsplit("=", 1)[1], rule_for)
        if found is not None:
            armed, rule = _AFTER, found
        else:
            armed = max(armed - 1, 0)
    return "/".join(segments) if changed else path
