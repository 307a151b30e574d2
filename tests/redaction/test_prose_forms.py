"""Looser free-text forms: XML elements, encoded pairs, ``key <token>``, curl ``-u``, shapes."""

from __future__ import annotations

import string

import pytest

from otel_distro.redaction import REDACTED, Redactor

from ._plant import alnum, digits, hexs, urlsafe


@pytest.mark.parametrize(
    "template",
    [
        "<Login><User>bob</User><Password>{s}</Password></Login>",
        '<wsse:Password Type="PasswordText">{s}</wsse:Password>',
        "<config><api_key>{s}</api_key></config>",
    ],
)
def test_xml_elements(plain: Redactor, template: str) -> None:
    """The text of an XML element named like a secret is replaced; other elements stay."""
    secret = alnum(20)
    out = plain.redact_text(template.format(s=secret))
    assert secret not in out and REDACTED in out


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_percent_encoded_pairs(plain: Redactor, levels: int) -> None:
    """``password%3D...`` encoded once or more outside a query is replaced."""
    from urllib.parse import quote

    secret = alnum(20)
    encoded = f"password={secret}&user=bob"
    for _ in range(levels):
        encoded = quote(encoded, safe="")
    assert secret not in plain.redact_text(f"body {encoded} sent")


@pytest.mark.parametrize("word", ["api_key", "passwd", "token", "client_secret"])
def test_sensitive_word_then_generated_token(plain: Redactor, word: str) -> None:
    """A generated token after a sensitive word and a space is replaced; prose stays."""
    secret = urlsafe(18)
    assert secret not in plain.redact_text(f"ValueError: invalid {word} {secret}")
    assert plain.redact_text(f"the {word} field is required") == f"the {word} field is required"


def test_curl_user_password(plain: Redactor) -> None:
    """``curl -u user:password`` loses the credentials, as text and as an argument list."""
    secret = alnum(16)
    assert secret not in plain.redact_text(f"curl -u admin:{secret} https://api.example")
    argv = ["curl", "-u", f"admin:{secret}", "https://api.example"]
    assert secret not in repr(plain.redact_value(argv, "process.command_args"))


def test_quoted_token_as_printed_dict_key(plain: Redactor) -> None:
    """A printed dict keyed by a token loses the key."""
    token = alnum(28)
    assert token not in plain.redact_text(f"sessions: {{'{token}': 'bob'}}")


def _upper_digits(n: int) -> str:
    import random

    return "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(n))


@pytest.mark.parametrize(
    "make",
    [
        lambda: "v4.local." + urlsafe(45),
        lambda: "AGE-SECRET-KEY-1" + _upper_digits(58),
        lambda: f"{alnum(3)}8Q~{alnum(34)}",
        lambda: f"M{alnum(25)}.{alnum(6)}.{alnum(38)}",
        lambda: f"{digits(9)}:{urlsafe(26)[:35]}",
        lambda: f"{hexs(32)}"[:0] + "SK" + hexs(32),
    ],
)
def test_more_token_shapes(plain: Redactor, make: object) -> None:
    """PASETO, age, Azure AD client secrets, Discord bot, Telegram and Twilio keys by shape."""
    secret = make()  # type: ignore[operator]
    out = plain.redact_text(f"configured with {secret} ok")
    assert secret not in out and out.endswith(" ok")


@pytest.mark.parametrize("name", ["code_verifier", "SAMLart", "wresult", "login_ticket"])
def test_more_sign_in_query_values(plain: Redactor, name: str) -> None:
    """PKCE verifiers, SAML artifacts, WS-Federation results and login tickets are replaced."""
    secret = urlsafe()
    assert secret not in plain.redact_text(f"GET /cb?{name}={secret}&x=1 200")


def test_two_factor_codes(plain: Redactor) -> None:
    """``2fa_code`` and ``two_factor_code`` values are replaced."""
    code = int(digits(6))
    assert plain.redact_mapping({"2fa_code": code, "two_factor_code": code}) == {
        "2fa_code": REDACTED,
        "two_factor_code": REDACTED,
    }


@pytest.mark.parametrize("word", ["pw", "pin", "key", "token", "secret"])
def test_token_key_holding_a_key_word_is_replaced(plain: Redactor, word: str) -> None:
    """A generated dict key that happens to end in a key word (``...2pwP``) is replaced
    as a token (the key word's rule may mask the value too)."""
    token = alnum(24) + "7" + word
    out = plain.redact_text(f"sessions: {{'{token}': 'bob'}}")
    assert token not in out
    assert plain.redact_text(out) == out
