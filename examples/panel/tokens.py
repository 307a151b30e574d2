"""HS256 bearer tokens for the panel demo (used by the demo client and the tests)."""

from __future__ import annotations

import time
from typing import Any

import jwt

__all__ = ["DEFAULT_SECRET", "SECRET_ENV", "make_token"]

SECRET_ENV = "PANEL_JWT_SECRET"
DEFAULT_SECRET = "panel-demo-secret-not-for-production-use"  # >= 32 bytes, as HS256 wants


def make_token(
    user_id: str,
    tenant_id: str,
    secret: str = DEFAULT_SECRET,
    expires_in: int = 3600,
    **claims: Any,
) -> str:
    """A signed token with ``sub=user_id`` and ``team_id=tenant_id`` (negative ``expires_in``
    gives an already-expired token)."""
    now = int(time.time())
    payload = {"sub": user_id, "team_id": tenant_id, "iat": now, "exp": now + expires_in}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def main(argv: list[str] | None = None) -> int:
    """``python -m examples.panel.tokens USER TENANT``: print a token for the panel demo."""
    import os
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m examples.panel.tokens USER_ID TENANT_ID", file=sys.stderr)
        return 2
    print(make_token(args[0], args[1], secret=os.environ.get(SECRET_ENV, DEFAULT_SECRET)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
