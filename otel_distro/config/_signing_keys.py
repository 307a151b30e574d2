"""``OTEL_DISTRO_BAGGAGE_SIGNING_KEYS``: ``kid:secret`` items, the first signs, all verify.

The parser never rejects the whole variable: an item that is not ``kid:secret``,
whose key id is not ``[A-Za-z0-9_-]{1,32}``, that repeats a key id, or whose secret
is shorter than :data:`MIN_SECRET_BYTES` is kept with its ``problem`` set, so that
the other keys keep working and the problem is reported once at startup (naming
the key id or the item's position, never the secret) while the key is not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MIN_SECRET_BYTES", "SigningKey", "key_problems", "parse_signing_keys"]

MIN_SECRET_BYTES = 32
KID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class SigningKey:
    """One shared key: its id, its secret (UTF-8 bytes, never shown) and what is wrong with it."""

    kid: str
    secret: bytes = field(repr=False)
    problem: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the key may sign or verify (it has no problem)."""
        return self.problem is None


def key_problems(keys: tuple[SigningKey, ...]) -> list[str]:
    """One message per unusable key: the variable, the kid or position, never the secret."""
    return [
        f"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS: {key.problem}; that key is not used"
        for key in keys
        if key.problem is not None
    ]


def parse_signing_keys(raw: str) -> tuple[SigningKey, ...]:
    """Every ``kid:secret`` item of a comma-separated list, in order (problems kept, flagged)."""
    keys: list[SigningKey] = []
    seen: set[str] = set()
    for position, item in enumerate((part.strip() for part in raw.split(",")), start=1):
        if not item:
            continue
        kid, colon, secret_text = item.partition(":")
        kid = kid.strip()
        secret = secret_text.strip().encode("utf-8", "surrogatepass")
        problem: str | None = None
        if not colon:
            kid = f"#{position}"
            problem = f"item {position} is not kid:secret"
        elif KID.fullmatch(kid) is None:
            kid = f"#{position}"
            problem = f"item {position} has a key id that is not 1-32 of A-Z a-z 0-9 _ -"
        elif kid in seen:
            problem = f"key id {kid!r} is listed twice (the first is used)"
        elif len(secret) < MIN_SECRET_BYTES:
            problem = (
                f"key {kid!r} is {len(secret)} bytes, shorter than the {MIN_SECRET_BYTES} required"
            )
        seen.add(kid)
        keys.append(SigningKey(kid, secret, problem))
    return tuple(keys)
