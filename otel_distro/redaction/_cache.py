"""Caches of what earlier calls learned: strings and keys known clean.

Bounded (cleared when full); only results of a pass with no Python rules are
remembered, since a rule may depend on more than the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._keys import KeyRules

__all__ = ["CONTEXT_KEYS", "QUERY_KEYS", "URL_KEYS", "CleanCache"]

_CACHE_MAX = 4096
_CACHE_LEN = 512
_MISSING = object()

QUERY_KEYS = frozenset({"url.query", "url.fragment"})
# Attributes holding a URL or a request target (``/path?query``), read as URLs.
URL_KEYS = frozenset({"url.full", "url.original", "http.url", "http.target"})
# Values read by their key's own rules (as a query or a URL), not as free text: a string
# known clean as text may still hold a secret there (``/p#sig=...`` as a URL), and text
# scanned there skipped the free-text query scan.  Never answered from the clean cache.
CONTEXT_KEYS = QUERY_KEYS | URL_KEYS


class CleanCache:
    """Strings and mapping keys a pass left unchanged, and keys that need no checks."""

    __slots__ = ("_keys", "keys", "plain", "text")

    def __init__(self, keys: KeyRules) -> None:
        self._keys = keys
        self.text: dict[str, None] = {}
        self.keys: dict[str, None] = {}
        # keys known_clean may pass without further checks (clean, no key rule, not a URL)
        self.plain: dict[str, None] = {}

    def remember_text(self, text: str) -> None:
        """Remember ``text`` as clean free text (short strings only)."""
        if len(text) > _CACHE_LEN:
            return
        if len(self.text) >= _CACHE_MAX:
            self.text.clear()
        self.text[text] = None

    def remember_key(self, key: str) -> None:
        """Remember ``key`` as a mapping key with nothing to replace in it."""
        if len(key) > _CACHE_LEN:
            return
        if len(self.keys) >= _CACHE_MAX:
            self.keys.clear()
        self.keys[key] = None

    def learn_plain(self, key: str) -> bool:
        """Whether *key* is known clean, not sensitive and not read as a URL; remembered."""
        if key not in self.keys or key in CONTEXT_KEYS:
            return False
        if self._keys.cached.get(key, _MISSING) is not None:
            return False
        if self._keys.conditional(key) is not None:
            return False
        plain = self.plain
        if len(plain) >= _CACHE_MAX:
            plain.clear()
        plain[key] = None
        return True

    def known_clean(self, text: Any, mapping: Mapping[Any, Any]) -> bool:
        """True when ``text`` and every item of ``mapping`` are known to need no change."""
        if text and (type(text) is not str or text not in self.text):
            return False
        if "input" in mapping and "loc" in mapping:
            return False
        if "kty" in mapping or "exception.type" in mapping:
            return False
        clean = self.text
        plain = self.plain
        for key, value in mapping.items():
            if type(key) is not str:
                return False
            if key not in plain and not self.learn_plain(key):
                return False
            kind = type(value)
            if kind is str:
                if value not in clean:
                    return False
            elif kind is int:
                if not -(10**12) < value < 10**12:
                    return False
            elif not (kind is float or kind is bool or value is None):
                return False
        return True
