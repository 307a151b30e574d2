"""Credential headers outside the name list, and modern credential formats by shape."""

from __future__ import annotations

import base64
import json

import pytest

from otel_distro.redaction import REDACTED, Redactor

from ._plant import alnum, b64, hexs, urlsafe

HEADERS = [
    "x-functions-key",
    "ocp-apim-subscription-key",
    "x-honeycomb-team",
    "x-acme-key",
    "x-partner-token",
    "x-client-secret",
    "x-webhook-signature",
    "x-my-apikey",
    "apikey",
    "x-vendor-apikey-value",
    "dd-api-key",
    "x-goog-api-key",
    "x-shopify-hmac-sha256",
    "x-hub-signature-256",
]


@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize("side", ["request", "response"])
def test_credential_header_attributes(plain: Redactor, header: str, side: str) -> None:
    """A captured credential-shaped header is replaced whole."""
    secret = urlsafe()
    key = f"http.{side}.header.{header.replace('-', '_')}"
    assert plain.redact_value((secret,), key) == REDACTED
    assert plain.redact_mapping({header.title(): secret}) == {header.title(): REDACTED}


@pytest.mark.parametrize(
    "header", ["idempotency-key", "x-cache-key", "x-public-key-id", "x-request-id"]
)
def test_non_credential_headers_are_kept(plain: Redactor, header: str) -> None:
    """Idempotency and cache keys are not credentials."""
    value = alnum(12)
    assert plain.redact_mapping({header: value}) == {header: value}


def _shapes() -> dict[str, str]:
    return {
        "google": "AIza" + alnum(35),
        "openai": "sk-" + alnum(48),
        "openai_project": "sk-proj-" + urlsafe(60),
        "anthropic": "sk-ant-api03-" + urlsafe(70),
        "sendgrid": f"SG.{urlsafe(16)[:22]}.{urlsafe(32)[:43]}",
        "npm": "npm_" + alnum(36),
        "huggingface": "hf_" + alnum(34),
        "gitlab": "glpat-" + alnum(20),
        "telegram": f"{alnum(6)[:0]}123456789:{urlsafe(26)[:35]}",
        "heroku": "HRKU-" + alnum(60),
        "groq": "gsk_" + alnum(52),
        "langsmith": "lsv2_pt_" + alnum(32) + "_" + alnum(10),
        "planetscale": "pscale_tkn_" + alnum(43),
        "mapbox_secret": "sk.eyJ1Ijoi" + alnum(40) + "." + alnum(22),
    }


@pytest.mark.parametrize("name", list(_shapes()))
@pytest.mark.parametrize("channel", ["text", "attribute", "json"])
def test_vendor_key_shapes(plain: Redactor, name: str, channel: str) -> None:
    """Vendor API keys are found by shape in text, attribute values and JSON strings."""
    secret = _shapes()[name]
    if channel == "text":
        out = plain.redact_text(f"calling vendor with {secret} now")
    elif channel == "attribute":
        out = plain.redact_value(secret, "vendor.config")
    else:
        out = plain.redact_text(json.dumps({"cfg": {"value": secret}}))
    assert secret not in out and REDACTED in out


def test_pgp_private_key_block(plain: Redactor) -> None:
    """A PGP private key block is replaced whole."""
    body = "\n".join(b64(48) for _ in range(4))
    block = f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----"
    out = plain.redact_text(f"imported key:\n{block}\ndone")
    assert body.splitlines()[0] not in out and out.endswith("done")


@pytest.mark.parametrize("field", ["AccountKey", "SharedAccessKey", "SharedAccessSignature"])
def test_azure_connection_strings(plain: Redactor, field: str) -> None:
    """Azure connection-string secrets are replaced, the other fields kept."""
    secret = b64(48)
    conn = (
        f"DefaultEndpointsProtocol=https;AccountName=acme;{field}={secret};"
        "EndpointSuffix=core.windows.net"
    )
    for out in (plain.redact_text(conn), plain.redact_value(conn, "azure.storage")):
        assert secret not in out and "AccountName=acme" in out


def test_azure_connection_string_in_resource_attributes(plain: Redactor) -> None:
    """A connection string passed through ``OTEL_RESOURCE_ATTRIBUTES`` is redacted."""
    from opentelemetry.sdk.resources import OTELResourceDetector

    secret = b64(32)
    conn = f"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={secret}"
    import os

    os.environ["OTEL_RESOURCE_ATTRIBUTES"] = f"service.name=x,azure.bus={conn}"
    try:
        attributes = dict(OTELResourceDetector().detect().attributes)
    finally:
        del os.environ["OTEL_RESOURCE_ATTRIBUTES"]
    assert secret not in repr(plain.redact_mapping(attributes))


@pytest.mark.parametrize("kty", ["RSA", "EC", "oct", "OKP"])
def test_private_jwk_members(plain: Redactor, kty: str) -> None:
    """A JWK's private members are replaced; public members are kept."""
    members = {m: urlsafe(16) for m in ("d", "p", "q", "dp", "dq", "qi", "k")}
    jwk = {"kty": kty, "kid": "key-1", "n": "pub", "e": "AQAB", **members}
    for out in (
        repr(plain.redact_value(jwk, "jwks")),
        plain.redact_text(json.dumps(jwk) + " loaded"),
        plain.redact_text(f"loaded {jwk!r}"),
    ):
        assert not any(secret in out for secret in members.values())
        assert "AQAB" in out and "key-1" in out


@pytest.mark.parametrize("name", ["LARAVEL_APP_KEY", "FERNET_KEY", "APP_KEY", "STRIPE_WEBHOOK_KEY"])
def test_env_dump_keys(plain: Redactor, name: str) -> None:
    """``*_APP_KEY``, ``FERNET_KEY`` and ``*_KEY`` holding generated values are replaced."""
    secret = (
        "base64:" + b64(32)
        if "APP" in name
        else base64.urlsafe_b64encode(bytes.fromhex(hexs(64))).decode()
    )
    env = {name: secret, "HOME": "/root", "CACHE_KEY": "user:42:profile"}
    out = plain.redact_mapping(env)
    assert out[name] == REDACTED and out["HOME"] == "/root"
    assert out["CACHE_KEY"] == "user:42:profile"
    assert secret not in plain.redact_text(f"{name}={secret}\nHOME=/root")


def test_key_suffix_with_plain_value_is_kept(plain: Redactor) -> None:
    """A ``*_key`` whose value is a word (a routing or sort key) is not a secret."""
    assert plain.redact_mapping({"sort_key": "created_at", "primary_key": "id"}) == {
        "sort_key": "created_at",
        "primary_key": "id",
    }


@pytest.mark.parametrize("key", ["baggage.session", "app.sid", "http.cookie.PHPSESSID"])
def test_session_names_as_last_dotted_part(plain: Redactor, key: str) -> None:
    """A session-cookie name as the last part of a dotted attribute key is sensitive."""
    assert plain.redact_mapping({key: urlsafe()}) == {key: REDACTED}
