"""Random secrets split across consecutive log records (never fixed strings)."""

from __future__ import annotations

import base64
import random
import secrets

__all__ = ["chunks", "password", "pem_records"]

_RANDOM = random.SystemRandom()


def pem_records(parts: int) -> tuple[list[str], list[str]]:
    """A random private key split at random over *parts* consecutive record texts (the
    first starts with a prefix, the last ends with a suffix), and the key's body lines."""
    kind = _RANDOM.choice(["", "RSA ", "EC ", "OPENSSH "])
    lines = [
        base64.b64encode(secrets.token_bytes(48)).decode()
        for _ in range(_RANDOM.randint(parts * 2, parts * 4))
    ]
    text = f"-----BEGIN {kind}PRIVATE KEY-----\n" + "\n".join(lines)
    text += f"\n-----END {kind}PRIVATE KEY-----"
    cuts = sorted(_RANDOM.sample(range(40, len(text) - 40), parts - 1))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    pieces[0] = "loaded key: " + pieces[0]
    pieces[-1] += " (key ok)"
    return pieces, lines


def password() -> str:
    """A random password-like value (letters and digits)."""
    return "p" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")


def chunks(lines: list[str]) -> list[str]:
    """Every 12-character piece of the key's lines (a leak of any part of the key)."""
    return [line[i : i + 12] for line in lines for i in range(0, len(line) - 11, 12)]
