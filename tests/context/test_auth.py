"""Bearer-token tenant resolution: only verified tokens set the tenant."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from otel_distro.auth import build_verifier
from otel_distro.config import load_settings

SECRET = "test-secret-for-hs256-that-is-long-enough"


def hs_token(claims: dict[str, object], secret: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def verifier(**env: str):  # type: ignore[no-untyped-def]
    result = build_verifier(load_settings(env))
    assert result is not None
    return result


def test_no_key_reads_nothing() -> None:
    assert build_verifier(load_settings({})) is None


def test_verified_token_maps_claims() -> None:
    v = verifier(OTEL_DISTRO_JWT_SECRET=SECRET)
    result = v.verify_header("Bearer " + hs_token({"sub": "u1", "team_id": "t1"}))
    assert result is not None
    assert (result.tenant_id, result.user_id, result.rejected) == ("t1", "u1", None)


def test_claim_mapping_is_configurable() -> None:
    v = verifier(OTEL_DISTRO_JWT_SECRET=SECRET, OTEL_DISTRO_JWT_TENANT_CLAIM="org")
    result = v.verify_header("Bearer " + hs_token({"sub": "u1", "org": "o9"}))
    assert result is not None and result.tenant_id == "o9"


def unsigned_token() -> str:
    import base64
    import json

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': 'u', 'team_id': 'evil'})}."


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (hs_token({"sub": "u", "team_id": "t", "exp": int(time.time()) - 60}), "expired"),
        (
            hs_token({"sub": "u", "team_id": "t"}, secret="wrong-secret-but-long-enough!!"),
            "bad_signature",
        ),
        (unsigned_token(), "alg_none"),
        ("not.a.jwt", "malformed"),
        ("x" * 10000, "malformed"),
        (hs_token({"sub": "u"}, alg="HS512"), "algorithm_not_allowed"),
    ],
)
def test_bad_tokens_set_nothing(token: str, reason: str) -> None:
    result = verifier(OTEL_DISTRO_JWT_SECRET=SECRET).verify_header(f"Bearer {token}")
    assert result is not None
    assert result.tenant_id is None and result.user_id is None
    assert result.rejected == reason


def test_audience_and_issuer_are_enforced() -> None:
    v = verifier(
        OTEL_DISTRO_JWT_SECRET=SECRET,
        OTEL_DISTRO_JWT_AUDIENCE="panel",
        OTEL_DISTRO_JWT_ISSUER="https://id.example",
    )
    good = hs_token({"sub": "u", "team_id": "t", "aud": "panel", "iss": "https://id.example"})
    bad = hs_token({"sub": "u", "team_id": "t", "aud": "other", "iss": "https://id.example"})
    assert v.verify(good).tenant_id == "t"
    assert v.verify(bad).rejected == "wrong_audience_or_issuer"


def test_non_bearer_headers_are_ignored() -> None:
    v = verifier(OTEL_DISTRO_JWT_SECRET=SECRET)
    assert v.verify_header("Basic dXNlcjpwYXNz") is None
    assert v.verify_header(None) is None


def test_public_key_verification_and_no_hmac_confusion(tmp_path: Path) -> None:
    """With a PEM public key, RS256 verifies; an HS256 token signed with the PEM is refused."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    v = verifier(OTEL_DISTRO_JWT_PUBLIC_KEY=str(path))
    good = jwt.encode({"sub": "u", "team_id": "t"}, key, algorithm="RS256")
    assert v.verify(good).tenant_id == "t"
    assert v.verify(hs_token({"sub": "u", "team_id": "evil"}, secret="x" * 40)).rejected == (
        "algorithm_not_allowed"
    )
    assert "BEGIN" not in repr(v)


def test_unreadable_key_file_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_verifier(load_settings({"OTEL_DISTRO_JWT_PUBLIC_KEY": "/nonexistent.pem"})) is None
    assert "OTEL_DISTRO_JWT_PUBLIC_KEY='/nonexistent.pem'" in capsys.readouterr().err


def test_missing_required_audience_has_its_own_reason() -> None:
    v = verifier(OTEL_DISTRO_JWT_SECRET=SECRET, OTEL_DISTRO_JWT_AUDIENCE="panel")
    result = v.verify_header("Bearer " + hs_token({"sub": "u1", "team_id": "t1"}))
    assert result is not None
    assert (result.tenant_id, result.rejected) == (None, "missing_claim")
    listed = v.verify_header(
        "Bearer " + hs_token({"sub": "u", "team_id": "t", "aud": ["x", "panel"]})
    )
    assert listed is not None and listed.tenant_id == "t"


def test_non_scalar_claims_are_not_ids() -> None:
    """A verified token whose tenant claim is an object, list or boolean sets no tenant."""
    v = verifier(OTEL_DISTRO_JWT_SECRET=SECRET)
    for claim in ({"a": [1, 2]}, ["t1"], True, 1.5):
        result = v.verify_header("Bearer " + hs_token({"sub": "u1", "team_id": claim}))
        assert result is not None
        assert (result.tenant_id, result.user_id, result.rejected) == (None, "u1", None)
    numeric = v.verify_header("Bearer " + hs_token({"sub": "42", "team_id": 7}))
    assert numeric is not None and (numeric.tenant_id, numeric.user_id) == (7, "42")


def test_header_tricks_do_not_pick_another_key(tmp_path: Path) -> None:
    """jku/x5u/kid point nowhere: only the configured key verifies a token."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "key.pem"
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    v = verifier(OTEL_DISTRO_JWT_PUBLIC_KEY=str(path))
    tricks = {"jku": "http://127.0.0.1:9/jwks", "x5u": "http://127.0.0.1:9/x5", "kid": "../../k"}
    forged = jwt.encode({"sub": "u", "team_id": "t"}, other, algorithm="RS256", headers=tricks)
    result = v.verify_header("bearer  " + forged + " ")
    assert result is not None and result.rejected == "bad_signature"
    signed = jwt.encode({"sub": "u", "team_id": "t"}, key, algorithm="RS256", headers=tricks)
    result = v.verify_header("bearer  " + signed + " ")
    assert result is not None and (result.tenant_id, result.rejected) == ("t", None)
