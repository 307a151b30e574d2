"""Signed-URL parameters, numeric codes in prose, tokens in dotted and colon-joined names."""

from __future__ import annotations

import secrets

import pytest

from otel_distro.redaction import Redactor

from ._plant import alnum, b64, digits, hexs, urlsafe

R = "REDACTED"


@pytest.mark.parametrize("name", ["st", "t", "tk", "k", "s", "Policy", "Key-Pair-Id", "ref"])
def test_shape_decided_query_names_mask_generated_values(plain: Redactor, name: str) -> None:
    value = alnum(28) if name == "ref" else b64(40).rstrip("=")
    assert plain.redact_url(f"https://x.example/p?{name}={value}&lang=en") == (
        f"https://x.example/p?{name}={R}&lang=en"
    )


@pytest.mark.parametrize(
    "query",
    [
        "st=2024-04-01T02%3A00%3A00Z&se=2031-05-01T10:00:00Z&sv=2022-11-02&sp=rwdl&spr=https",
        "policy=strict&t=1714550400&s=20&k=abc&st=900s",
        "X-Amz-Date=20240501T000000Z&X-Amz-Expires=3600&Expires=1914550400",
        "id=550e8400-e29b-41d4-a716-446655440000&trace=4bf92f3577b34da6a3ce929d0e0e4736",
    ],
)
def test_harmless_signed_url_parameters_stay(plain: Redactor, query: str) -> None:
    assert plain.redact_url(f"https://x.example/p?{query}") == f"https://x.example/p?{query}"


def test_cas_ticket_and_cloudfront_triple(plain: Redactor) -> None:
    ticket = f"ST-{digits(6)}-{alnum(20)}-cas"
    assert plain.redact_text(f"GET /login?st={ticket} 302") == f"GET /login?st={R} 302"
    policy, sig, pair = b64(60).rstrip("="), urlsafe(40), "K" + alnum(13).upper()
    url = f"https://d.cloudfront.net/a?Expires=1914550400&Policy={policy}&Signature={sig}&Key-Pair-Id={pair}"
    assert plain.redact_url(url) == (
        f"https://d.cloudfront.net/a?Expires=1914550400&Policy={R}&Signature={R}&Key-Pair-Id={R}"
    )


@pytest.mark.parametrize(
    "template",
    [
        "your code is {c}",
        "Your verification code: {a} {b}",
        "OTP {c}",
        "event OTP {c}",
        "one-time passcode is {c}. It expires in 10 minutes.",
        "{c} is your login code",
        "Use {c} to verify your account",
        "Enter {a}-{b} to continue",
        "PIN: {p}",
        "2fa code {c}",
        "token {c}",
    ],
)
def test_numeric_codes_in_prose(plain: Redactor, template: str) -> None:
    code = digits(6)
    text = template.format(c=code, a=code[:3], b=code[3:], p=code[:4])
    out = plain.redact_text(text)
    assert code not in out.replace(" ", "").replace("-", "") and code[:4] not in out and R in out


@pytest.mark.parametrize(
    "text",
    [
        "error code 500123 from upstream",
        "exit code 137",
        "zip code 94107",
        "HTTP status code 404",
        "code: 4829",
        "order 482913 shipped",
        "retry 3 of 5 in 1500ms",
        "version 1.2.3 build 4829",
        "max token 128000, input tokens 123456",
        "order code 123456 shipped, invoice code 482913",
    ],
)
def test_numbers_that_are_not_codes(plain: Redactor, text: str) -> None:
    assert plain.redact_text(text) == text


@pytest.mark.parametrize(
    "template",
    [
        "published user.reset.{t}.sent",
        "routing_key=password.reset.{t}",
        "subject auth.token.{t}",
        "conversation id reset:{t}",
        "correlation_id=invite:{t}",
        "cache miss session:{t}",
        "id verify:{t}:v1",
        "Message-ID: <reset.{t}@mail.example.com>",
    ],
)
def test_tokens_in_dotted_and_colon_names(plain: Redactor, template: str) -> None:
    token = urlsafe(18).replace("-", "x").replace("_", "y")
    out = plain.redact_text(template.format(t=token))
    assert token not in out and out == template.format(t=R)


def test_names_without_secrets_stay(plain: Redactor) -> None:
    hexid = secrets.token_hex(16)
    text = (
        f"module otel_distro.logging._scrub on api.example.com key orders.eu.created.v1 "
        f"image sha256:{secrets.token_hex(32)} order:{hexid} at 10:00:00.123 "
        f"trace_id={hexid} span_id={hexs(16)} from john.doe@example.com"
    )
    assert plain.redact_text(text) == text
    assert plain.redact_mapping({"messaging.rabbitmq.destination.routing_key": "user.created"}) == {
        "messaging.rabbitmq.destination.routing_key": "user.created"
    }


def test_two_factor_only_as_a_word_of_the_key(plain: Redactor) -> None:
    """``2fa`` inside a hex id (``...22fa83...``) is not a two-factor key."""
    assert plain.rule_for_key("user_2fa") == "password"
    assert plain.rule_for_key("a3ed98c22fa83cbe936c590a3cd16382") is None


def test_a_scheme_word_before_a_key_value_pair_is_not_a_credential(plain: Redactor) -> None:
    """``bearer auth.method=oidc``: the word after ``bearer`` is a key, not a token."""
    assert plain.redact_text("token.type: bearer auth.method=oidc") == (
        "token.type: bearer auth.method=oidc"
    )
    token = urlsafe(24)
    assert plain.redact_text(f"Authorization: Bearer {token}== next") == (
        "Authorization: Bearer REDACTED next"
    )
