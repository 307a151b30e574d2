"""Key rules: which attribute, field, header or parameter names hold secrets.

A key is normalised (lower case, ``-``, ``.`` and spaces read as ``_``) and split
into words (``browserSessionId`` -> ``browser session id``).  A key matches when
a word is, or ends with, a sensitive stem (``password``, ``clientSecret``), when
two adjacent words form a sensitive pair (``api key``), or when the whole key is a
known session-cookie name.  The rule's name is what reports show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_KEYS",
    "KeyRules",
    "counts_tokens",
    "normalise_key",
]

# stem -> rule name; a word matches if it equals the stem, the stem + "s",
# or ends with the stem (``userpassword``, ``accesstoken``, ``setcookie``).
_STEMS: dict[str, str] = {
    "password": "password",
    "passwd": "password",
    "pwd": "password",
    "passphrase": "password",
    "secret": "secret",
    "token": "token",
    "credential": "credential",
    "cookie": "cookie",
    "auth": "auth",
    "authorization": "auth",
    "authorisation": "auth",
    "csrf": "csrf",
    "xsrf": "csrf",
    "jwt": "jwt",
    "ssn": "ssn",
    "apikey": "api_key",
    "privatekey": "private_key",
    "sessionid": "session",
    "sessid": "session",
}

# Words that may only match exactly (as a compound suffix they are too common).
_EXACT_WORDS: dict[str, str] = {
    "pass": "password",
    "pw": "password",
    "passcode": "password",
    "otp": "password",
    "bearer": "auth",
    "authentication": "auth",
    "authn": "auth",
    "authz": "auth",
    "creds": "credential",
    "cred": "credential",
    "totp": "password",
    "signature": "signature",
    "cvv": "card",
    "cvv2": "card",
    "cvc": "card",
    "iban": "iban",
}

_PAIRS: dict[tuple[str, str], str] = {
    ("api", "key"): "api_key",
    ("api", "keys"): "api_key",
    ("private", "key"): "private_key",
    ("access", "key"): "api_key",
    ("signing", "key"): "private_key",
    ("encryption", "key"): "private_key",
    ("master", "key"): "private_key",
    ("card", "number"): "card",
    ("credit", "card"): "card",
    ("cc", "number"): "card",
    ("social", "security"): "ssn",
    ("priv", "key"): "private_key",
    ("ssh", "key"): "private_key",
    ("hmac", "key"): "private_key",
    ("enc", "key"): "private_key",
    ("id", "rsa"): "private_key",
    ("id", "ed25519"): "private_key",
    ("license", "key"): "api_key",
    ("mfa", "code"): "password",
    ("otp", "code"): "password",
    ("pin", "code"): "password",
    ("verification", "code"): "password",
    ("reset", "code"): "password",
    ("recovery", "code"): "password",
    ("backup", "code"): "password",
    ("recovery", "codes"): "password",
    ("backup", "codes"): "password",
}

# Whole keys (normalised, leading ``_``/``x_`` and header prefixes removed).
_EXACT_KEYS: dict[str, str] = {
    "session": "session",
    "session_id": "session",
    "sessionid": "session",
    "sid": "session",
    "phpsessid": "session",
    "jsessionid": "session",
    "connect_sid": "session",
    "user_session": "session",
    "asp_net_sessionid": "session",
    "session_key": "session",
}

# A "token" key next to one of these words counts tokens; it is not a secret.
_COUNT_WORDS = frozenset(
    {
        "count",
        "counts",
        "usage",
        "used",
        "limit",
        "limits",
        "max",
        "min",
        "total",
        "input",
        "output",
        "prompt",
        "completion",
        "cached",
        "reasoning",
        "num",
        "number",
        "length",
        "len",
        "type",
        "budget",
        "estimate",
        "estimated",
        "rate",
        "size",
        "remaining",
        "index",
        "idx",
        "position",
        "offset",
        "kind",
    }
)

_PII_KEYS: dict[str, str] = {
    "x_forwarded_for": "pii_ip",
    "x_real_ip": "pii_ip",
    "ip_address": "pii_ip",
    "remote_addr": "pii_ip",
    "email": "pii_email",
    "email_address": "pii_email",
    "phone": "pii_phone",
    "phone_number": "pii_phone",
}

_HEADER_PREFIX = re.compile(r"^.*?(?:header|headers|metadata)_")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SEPARATORS = str.maketrans({"-": "_", ".": "_", " ": "_"})

#: Query-parameter names the semantic conventions require redacting in URLs.
SENSITIVE_QUERY_KEYS = frozenset(
    k.lower()
    for k in (
        "AWSAccessKeyId",
        "Signature",
        "sig",
        "X-Goog-Signature",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
    )
)

#: Header-name regexes for ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS``
#: (contrib joins them with ``|`` and searches header names case-insensitively).
#: No pattern contains a comma, so ``",".join(SENSITIVE_HEADERS)`` is a valid value.
SENSITIVE_HEADERS: tuple[str, ...] = (
    "authorization",
    "authorisation",
    "auth(?!or)",
    "cookie",
    "api[-_]?key",
    "token",
    "secret",
    "passw",
    "pwd",
    "credential",
    "session",
    "csrf",
    "xsrf",
    "jwt",
    "signature",
    "private[-_]?key",
)


def counts_tokens(rule: str | None, key: str, value: str) -> bool:
    """True for a number written under a plural ``...tokens`` key (a count, not a secret)."""
    return rule == "token" and value.isdigit() and key.lower().endswith("tokens")


def normalise_key(key: str) -> str:
    """Lower case with ``-``, ``.`` and spaces turned into ``_``."""
    return key.lower().translate(_SEPARATORS)


def _words(key: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(key)]


def _strip_prefixes(norm: str) -> str:
    norm = _HEADER_PREFIX.sub("", norm, count=1)
    norm = norm.lstrip("_")
    if norm.startswith("x_"):
        norm = norm[2:]
    return norm


class KeyRules:
    """Decides whether a key is sensitive; results are cached per key."""

    _CACHE_MAX = 8192

    def __init__(
        self,
        extra_keys: Iterable[str] = (),
        allow_keys: Iterable[str] = (),
        pii: bool = False,
    ) -> None:
        self._extra = tuple(f"_{normalise_key(k).strip('_')}_" for k in extra_keys if k.strip())
        self._allow = frozenset(normalise_key(k) for k in allow_keys if k.strip())
        self._pii = pii
        self._cache: dict[str, str | None] = {}

    def rule_for(self, key: str) -> str | None:
        """The rule name that makes ``key`` sensitive, or ``None``."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        rule = self._compute(key)
        if len(self._cache) >= self._CACHE_MAX:
            self._cache.clear()
        self._cache[key] = rule
        return rule

    @property
    def cached(self) -> dict[str, str | None]:
        """The key -> rule cache (read-only use: a fast path for known keys)."""
        return self._cache

    def _compute(self, key: str) -> str | None:
        key = key[:256]
        norm = normalise_key(key)
        if norm in self._allow:
            return None
        bare = _strip_prefixes(norm)
        if bare in _EXACT_KEYS:
            return _EXACT_KEYS[bare]
        if self._pii and bare in _PII_KEYS:
            return _PII_KEYS[bare]
        words = _words(key)
        rule = _word_rule(words)
        if rule is not None:
            return rule
        if self._extra:
            padded = f"_{norm}_"
            if any(extra in padded for extra in self._extra):
                return "custom_key"
        return None


def _word_rule(words: list[str]) -> str | None:
    found: str | None = None
    for index, word in enumerate(words):
        rule = _EXACT_WORDS.get(word) or _stem_rule(word)
        if rule is None and index + 1 < len(words):
            rule = _PAIRS.get((word, words[index + 1]))
        if rule is None:
            continue
        if rule == "token" and _COUNT_WORDS.intersection(words):
            continue
        if rule != "token":
            return rule
        found = rule
    return found


def _stem_rule(word: str) -> str | None:
    rule = _STEMS.get(word)
    if rule is not None:
        return rule
    if word.endswith("s") and word[:-1] in _STEMS:
        return _STEMS[word[:-1]]
    for stem, name in _STEMS.items():
        if len(word) > len(stem) and (word.endswith(stem) or word.endswith(stem + "s")):
            return name
    return None
