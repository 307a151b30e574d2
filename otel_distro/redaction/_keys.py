"""Key rules: which attribute, field, header or parameter names hold secrets.

A key is folded (look-alike letters from other scripts read as Latin, invisible
characters dropped), normalised (lower case, ``-``, ``.`` and spaces read as
``_``) and split into words (``browserSessionId`` -> ``browser session id``).  A
key matches when a word is, or ends with, a sensitive stem (``password``,
``clientSecret``), when two adjacent words form a sensitive pair (``api key``),
when the whole key is a known session-cookie name, or when a header-style name
ends in ``-key`` (``x-functions-key``).  A word that describes the secret instead
of holding it (``auth_provider``, ``password_changed_at``, ``max_auth_retries``)
cancels the match.  Some keys decide by the value's shape (see :meth:`KeyRules.conditional`).
The rule's name is what reports show.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from ._keytables import (
    COUNT_WORDS,
    EXACT_KEYS,
    EXACT_WORDS,
    JWK_PRIVATE_MEMBERS,
    META_BEFORE,
    META_WORDS,
    NON_SECRET_KEY_QUALIFIERS,
    PAIRS,
    PII_KEYS,
    QUERY_ONLY_KEYS,
    STEMS,
)
from ._marker import REDACTED
from ._shapes import looks_generated

__all__ = [
    "GLUED_PASSWORD_COMMANDS",
    "JWK_PRIVATE_MEMBERS",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_KEYS",
    "KeyRules",
    "counts_tokens",
    "fold",
    "glued_password_command",
    "looks_generated",
    "normalise_key",
    "query_rule",
    "sequence_flag_rule",
]

_HEADER_PREFIX = re.compile(r"^.*?(?:header|headers|metadata)_")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SEPARATORS = str.maketrans({"-": "_", ".": "_", " ": "_"})
_FLAG = re.compile(r"--?([A-Za-z][A-Za-z0-9_.\-]{0,63})")
_PAIR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
_FIELD_NAME = re.compile(r"[a-z][a-z_]{0,31}")
# Short flags that take a password in common tools (``mysql -p``, ``redis-cli -a``).
_SHORT_SECRET_FLAGS = frozenset({"p", "a"})
_PORTISH = re.compile(r"[0-9][0-9:./\-]*|[./~\\].*|[A-Za-z]:[\\/].*")
# ``2fa`` as a word of the key (``user_2fa``, ``2fa-code``), never inside a hex id
_TWO_FACTOR = re.compile(r"(?:^|_)2fa(?:_|$)|two_?factor")
_CODE_KEYS = {"code": (6, 8), "pin": (4, 8), "otp": (4, 8), "passcode": (4, 8)}

# Cyrillic and Greek letters that look like Latin ones (``password`` typed with a
# Cyrillic ``er``), read as the Latin letter they imitate.
_CONFUSABLES = str.maketrans(
    "\u0430\u0432\u0435\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445"
    "\u0455\u0456\u0458\u0501\u051d\u04cf\u04bb\u051b\u0410\u0412\u0415\u041a"
    "\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0405\u0406\u0408\u03b1\u03bf"
    "\u03c1\u03c4\u03c5\u03bd\u03b9\u03ba\u03c7\u03b5\u0391\u0392\u0395\u039a"
    "\u039c\u039d\u039f\u03a1\u03a4\u03a7\u03a5\u0396",
    "abekmhopctyxsijdwlhqABEKMHOPCTXSIJaoptuvikxeABEKMNOPTXYZ",
)

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
    "(?<!idempotency)(?<!cache)(?<!public)-key$",
    "-team$",
    "-sig$",
)


def counts_tokens(rule: str | None, key: str, value: str) -> bool:
    """True for a number written under a plural ``...tokens`` key (a count, not a secret)."""
    return rule == "token" and value.isdigit() and key.lower().endswith("tokens")


def fold(key: str) -> str:
    """``key`` with look-alike letters read as Latin and invisible characters removed."""
    if key.isascii():
        return key
    key = unicodedata.normalize("NFKC", key).translate(_CONFUSABLES)
    return "".join(c for c in key if unicodedata.category(c) != "Cf")


def normalise_key(key: str) -> str:
    """Lower case with ``-``, ``.`` and spaces turned into ``_`` (look-alikes folded)."""
    return fold(key).lower().translate(_SEPARATORS)


def _words(key: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(key)]


def _strip_prefixes(norm: str) -> str:
    norm = _HEADER_PREFIX.sub("", norm, count=1)
    norm = norm.lstrip("_")
    if norm.startswith("x_"):
        norm = norm[2:]
    return norm


def query_rule(name: str, rule_for: Any) -> str | None:
    """The rule for a URL query (or fragment) parameter name, or ``None``."""
    lowered = name.lower()
    if lowered in SENSITIVE_QUERY_KEYS:
        return "url_query"
    rule = QUERY_ONLY_KEYS.get(fold(lowered).replace("-", "_"))
    if rule is not None:
        return rule
    found: str | None = rule_for(name)
    return found


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
        self._conditional: dict[str, str | None] = {}

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

    @property
    def conditional_cached(self) -> dict[str, str | None]:
        """The key -> conditional kind cache (read-only use)."""
        return self._conditional

    def conditional(self, key: str) -> str | None:
        """How ``key`` decides by its value's shape, or ``None`` when it does not.

        ``"generated"``: a ``*_key`` name (``STRIPE_WEBHOOK_KEY``), secret when the value
        looks generated; ``"pwd"``: ``PWD``/``OLDPWD``, secret unless the value is a path;
        ``"code"``: ``code``/``pin``/``otp``, secret when the value is a short digit run.
        """
        try:
            return self._conditional[key]
        except KeyError:
            pass
        kind = None if self.rule_for(key) is not None else self._conditional_kind(key)
        if len(self._conditional) >= self._CACHE_MAX:
            self._conditional.clear()
        self._conditional[key] = kind
        return kind

    def conditional_rule(self, key: str, value: Any) -> str | None:
        """The rule that makes ``value`` under ``key`` a secret, by its shape; or ``None``."""
        kind = self.conditional(key)
        if kind is None:
            return None
        if kind == "generated":
            return (
                "api_key" if isinstance(value, str) and looks_generated(value, minimum=16) else None
            )
        if kind == "pwd":
            text = value if isinstance(value, str) else str(value)
            return None if not text or _PORTISH.fullmatch(text) else "password"
        low, high = _CODE_KEYS[normalise_key(key).rsplit("_", 1)[-1]]
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if isinstance(text, str) and text.isdigit() and low <= len(text) <= high:
            return "password"
        return None

    def keeps_number(self, rule: str, key: str, value: Any) -> bool:
        """True for a number under a ``...tokens`` key (a count) or a float under ``token``."""
        if rule != "token" or not isinstance(value, (int, float)):
            return False
        return isinstance(value, float) or key.lower().endswith("tokens")

    def flag_rule(self, flag: str, value: str) -> str | None:
        """The rule for ``-flag value`` on a command line (short ``-p``/``-a`` included)."""
        if len(flag) == 1:
            if flag in _SHORT_SECRET_FLAGS and value and not _PORTISH.fullmatch(value):
                return "password"
            if flag == "u" and ":" in value.strip(":"):  # curl -u user:password
                return "password"
            return None
        return self.rule_for(flag)

    def _conditional_kind(self, key: str) -> str | None:
        norm = normalise_key(key[:256])
        if norm in self._allow:
            return None
        bare = _strip_prefixes(norm)
        if bare in ("pwd", "oldpwd"):
            return "pwd"
        words = _words(fold(key[:256]))
        if not words:
            return None
        if words[-1] in _CODE_KEYS and (len(words) == 1 or words[-2] in ("one", "time")):
            return "code"
        if (
            len(words) >= 2
            and words[-1] == "key"
            and words[-2] not in NON_SECRET_KEY_QUALIFIERS
            and not _described(words, len(words) - 1)
        ):
            return "generated"
        return None

    def _compute(self, key: str) -> str | None:
        key = fold(key[:256])
        norm = normalise_key(key)
        if norm in self._allow:
            return None
        bare = _strip_prefixes(norm)
        if bare in ("pwd", "oldpwd"):
            return None  # the working directory, unless the value says otherwise
        if bare in EXACT_KEYS:
            return EXACT_KEYS[bare]
        last = _strip_prefixes(normalise_key(key.rsplit(".", 1)[-1])) if "." in key else ""
        if last in EXACT_KEYS:  # ``baggage.session``, ``app.sid``
            return EXACT_KEYS[last]
        if self._pii and bare in PII_KEYS:
            return PII_KEYS[bare]
        words = _words(key)
        rule = _word_rule(words)
        if rule is not None:
            return rule
        if _TWO_FACTOR.search(norm) is not None and not _described(words, len(words)):
            return "password"
        if _header_style(key, norm) and _credential_header(words):
            return "api_key"
        if self._extra:
            padded = f"_{norm}_"
            if any(extra in padded for extra in self._extra):
                return "custom_key"
        return None


def _header_style(key: str, norm: str) -> bool:
    """Whether ``key`` is written like an HTTP header name (or a captured-header attribute)."""
    return "-" in key or norm.startswith("x_") or _HEADER_PREFIX.match(norm) is not None


def _credential_header(words: list[str]) -> bool:
    """``x-functions-key``, ``ocp-apim-subscription-key``, ``x-honeycomb-team``, ``*apikey*``."""
    if not words:
        return False
    if any("apikey" in word for word in words):
        return True
    last = words[-1]
    if last in ("key", "sig") and len(words) >= 2:
        return words[-2] not in NON_SECRET_KEY_QUALIFIERS and not _described(words, len(words) - 1)
    return False


def _described(words: list[str], index: int, width: int = 1) -> bool:
    """True when the words around ``words[index]`` describe a secret instead of holding it."""
    after = words[index + width :]
    if any(word in META_WORDS for word in after):
        return True
    return any(word in META_BEFORE for word in words[:index])


def _word_rule(words: list[str]) -> str | None:
    found: str | None = None
    for index, word in enumerate(words):
        width = 1
        rule = EXACT_WORDS.get(word) or _stem_rule(word)
        if rule is None and index + 1 < len(words):
            rule = PAIRS.get((word, words[index + 1]))
            width = 2
        if rule is None:
            continue
        if rule == "token" and COUNT_WORDS.intersection(words):
            continue
        if _described(words, index, width):
            continue
        if rule != "token":
            return rule
        found = rule
    return found


def _stem_rule(word: str) -> str | None:
    rule = STEMS.get(word)
    if rule is not None:
        return rule
    if word.endswith("s") and word[:-1] in STEMS:
        return STEMS[word[:-1]]
    for stem, name in STEMS.items():
        if len(word) > len(stem) and (word.endswith(stem) or word.endswith(stem + "s")):
            return name
    return None


#: Command-line clients that take the password glued to ``-p`` (``mysql -pSECRET``).
GLUED_PASSWORD_COMMANDS = frozenset(
    {"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlsh", "mariadb", "mariadb-dump"}
)


def glued_password_command(item: Any) -> bool:
    """Whether ``item`` (an argument list's first item) is such a client."""
    return type(item) is str and item.rsplit("/", 1)[-1] in GLUED_PASSWORD_COMMANDS


def sequence_flag_rule(keys: KeyRules, name: str, following: Any, *, pair: bool) -> str | None:
    """The key naming the item after ``name`` in a sequence, or ``None``.

    ``--password``/``-a`` flags (argument lists), a bare sensitive name followed by
    its value (``[..., "password", pw]``), and the value of a two-item header pair.
    """
    if REDACTED in name:  # a name made by an earlier pass, not the app's
        return None
    if isinstance(following, (bytes, bytearray)):
        following = bytes(following[:256]).decode("latin-1")
    if name.startswith("-"):
        flag = _FLAG.fullmatch(name)
        if flag is None or not isinstance(following, (str, int)):
            return None
        text = str(following)
        if text.startswith("-") and not text.lstrip("-").isdigit():
            return None
        rule = keys.flag_rule(flag.group(1), text)
        return None if rule is None else (flag.group(1) if len(flag.group(1)) > 1 else "password")
    if _PAIR_KEY.fullmatch(name) is None or keys.rule_for(name) is None:
        return None
    if pair:
        return name
    if isinstance(following, str) and (
        following.startswith("-") or _FIELD_NAME.fullmatch(following) or keys.rule_for(following)
    ):
        return None  # a list of field names (``["password", "email"]``), not a value
    return name if isinstance(following, (str, int)) else None
