"""Key rules: which names hold secrets (the whole value is replaced)."""

from __future__ import annotations

import pytest

from otel_distro.redaction import REDACTED, Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PASSWORD",
        "db.password",
        "userPassword",
        "passwd",
        "mysql_pwd",
        "passphrase",
        "client_secret",
        "clientSecret",
        "secrets",
        "access_token",
        "refresh-token",
        "X-Auth-Token",
        "apiKey",
        "api_key",
        "x-api-key",
        "API.KEY",
        "auth",
        "authorization",
        "Proxy-Authorization",
        "credentials",
        "cookie",
        "set-cookie",
        "Set-Cookie",
        "session",
        "sessionid",
        "session_id",
        "sessionId",
        "_session",
        "user_session",
        "PHPSESSID",
        "connect.sid",
        "csrf",
        "_csrf",
        "csrftoken",
        "x_csrftoken",
        "csrf_token",
        "XSRF-TOKEN",
        "_xsrf",
        "jwt",
        "private_key",
        "privatekey",
        "privateKey",
        "card_number",
        "creditCard",
        "cvv",
        "ssn",
        "social_security_number",
        "http.request.header.authorization",
        "http.request.header.cookie",
        "http.request.header.x_api_key",
        "http.response.header.set_cookie",
    ],
)
def test_sensitive_key_replaces_whole_value(redactor: Redactor, key: str) -> None:
    """A key matching a key rule has its whole value replaced."""
    assert redactor.redact_value("anything at all", key) == REDACTED


@pytest.mark.parametrize(
    "key",
    [
        "author",
        "authors",
        "author_name",
        "tokenizer",
        "browserSessionId",
        "browser.session.id.length",
        "user.name",
        "http.route",
        "keyboard",
        "cache_key",
        "passage",
        "compass",
        "secretary_count_is_not_here",
    ],
)
def test_benign_key_is_kept(redactor: Redactor, key: str) -> None:
    """Look-alike keys (author, tokenizer, browserSessionId, ...) keep their value."""
    assert redactor.redact_value("plain value", key) == "plain value"


@pytest.mark.parametrize(
    "key", ["token_count", "gen_ai.usage.input_tokens", "max_tokens", "tokenCount", "num_tokens"]
)
def test_token_counts_are_not_secrets(redactor: Redactor, key: str) -> None:
    """A key that counts tokens is not a token."""
    assert redactor.redact_value(1234, key) == 1234


def test_numeric_value_under_token_key_is_kept(redactor: Redactor) -> None:
    """A number stored under a bare token key is a count, not a credential."""
    assert redactor.redact_value(42, "tokens") == 42


def test_number_under_password_key_is_redacted(redactor: Redactor) -> None:
    """Numbers are redacted by every key rule except the token rule."""
    assert redactor.redact_value(123456, "pin_password") == REDACTED


def test_booleans_and_none_are_never_redacted(redactor: Redactor) -> None:
    """A flag such as ``password_set`` carries no secret."""
    assert redactor.redact_mapping({"password_set": True, "token": None}) == {
        "password_set": True,
        "token": None,
    }


def test_extra_keys_extend_the_rules() -> None:
    """``OTEL_DISTRO_REDACT_KEYS`` names are matched as whole words of the key."""
    redactor = Redactor(extra_keys=["tenant_pin"])
    assert redactor.redact_value("1234", "billing.tenant_pin") == REDACTED
    assert redactor.redact_value("1234", "tenant_pinned") == "1234"


def test_allow_keys_win_over_key_rules() -> None:
    """``OTEL_DISTRO_REDACT_ALLOW_KEYS`` keys are never redacted by key rules."""
    redactor = Redactor(allow_keys=["session.id"])
    assert redactor.redact_value("abc", "session.id") == "abc"


def test_allow_keys_still_get_value_rules() -> None:
    """An allowed key's value is still scanned for secret-shaped substrings."""
    redactor = Redactor(allow_keys=["note"])
    assert redactor.redact_value("see password=hunter2", "note") == f"see password={REDACTED}"


def test_pii_keys_only_when_enabled() -> None:
    """IP-carrying keys (x_forwarded_for, ...) are PII: redacted only with PII on."""
    assert Redactor().redact_value("1.2.3.4", "x_forwarded_for") == "1.2.3.4"
    assert Redactor(pii=True).redact_value("1.2.3.4", "x_forwarded_for") == REDACTED
