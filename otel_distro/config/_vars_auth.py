"""Bearer-token verification (``auth.py``): secret or public key, algorithms, claims."""

from __future__ import annotations

from otel_distro.config._parsers import (
    parse_bool,
    parse_list,
    parse_str,
)
from otel_distro.config._variable import Variable

__all__ = ["AUTH"]

AUTH: tuple[Variable[object], ...] = (
    Variable(
        "OTEL_DISTRO_JWT_SECRET",
        "jwt_secret",
        parse_str,
        "",
        "HMAC secret: verified `Authorization: Bearer` tokens set the tenant.",
        secret=True,
    ),
    Variable(
        "OTEL_DISTRO_JWT_PUBLIC_KEY",
        "jwt_public_key",
        parse_str,
        "",
        "Path of a PEM public key (RS*/ES*/PS*/EdDSA) for verifying bearer tokens.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_ALGORITHMS",
        "jwt_algorithms",
        parse_list,
        (),
        "Accepted JWT algorithms.",
        default_doc="`HS256` with a secret, `RS256,ES256` with a public key",
    ),
    Variable(
        "OTEL_DISTRO_JWT_AUDIENCE",
        "jwt_audience",
        parse_str,
        "",
        "Required `aud` claim (unchecked when empty).",
    ),
    Variable(
        "OTEL_DISTRO_JWT_ISSUER",
        "jwt_issuer",
        parse_str,
        "",
        "Required `iss` claim (unchecked when empty).",
    ),
    Variable(
        "OTEL_DISTRO_JWT_TENANT_CLAIM",
        "jwt_tenant_claim",
        parse_str,
        "team_id",
        "Claim mapped to `tenant.id`.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_USER_CLAIM",
        "jwt_user_claim",
        parse_str,
        "sub",
        "Claim mapped to `user.id`.",
    ),
    Variable(
        "OTEL_DISTRO_JWT_REQUIRE_EXP",
        "jwt_require_exp",
        parse_bool,
        False,
        "Reject bearer tokens without an `exp` claim (security event `token_missing_exp`).",
    ),
)
