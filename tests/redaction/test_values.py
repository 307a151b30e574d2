"""Value rules: secret-shaped substrings are replaced, the rest of the text kept."""

from __future__ import annotations

import base64

import pytest

from otel_distro.redaction import REDACTED, Redactor
from otel_distro.redaction._checksums import iban_valid, luhn_valid

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        (JWT, "jwt"),
        ("AKIAIOSFODNN7EXAMPLE", "aws_key"),
        ("ghp_" + "a1B2" * 9, "github_token"),
        ("github_pat_" + "A" * 22 + "_" + "b" * 59, "github_token"),
        ("glpat-" + "x1y2z3" * 4, "gitlab_token"),
        ("xoxb-123456789012-abcdefABCDEF", "slack_token"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "stripe_key"),
        ("4111111111111111", "card"),
        ("4111 1111 1111 1111", "card"),
        ("4111-1111-1111-1111", "card"),
        ("378282246310005", "card"),
        ("GB82WEST12345698765432", "iban"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
    ],
)
def test_secret_shapes_are_replaced_in_text(redactor: Redactor, secret: str, rule: str) -> None:
    """Each built-in pattern replaces only the secret inside surrounding text."""
    from otel_distro.redaction import RedactionReport

    report = RedactionReport()
    result = redactor.redact_text(f"before {secret} after", report=report)
    assert result == f"before {REDACTED} after"
    assert rule in report.by_rule


def test_bearer_credential_is_replaced_scheme_kept(redactor: Redactor) -> None:
    """``Bearer <token>`` keeps the scheme word and loses the token."""
    assert redactor.redact_text("sent Bearer abc.DEF-123_x") == f"sent Bearer {REDACTED}"


def test_basic_credential_is_replaced(redactor: Redactor) -> None:
    """``Basic <base64 user:pass>`` is recognised by decoding it."""
    cred = base64.b64encode(b"alice:pw").decode()
    assert redactor.redact_text(f"Basic {cred}") == f"Basic {REDACTED}"


def test_prose_after_scheme_word_is_kept(redactor: Redactor) -> None:
    """Ordinary words after ``Basic``/``Bearer`` are not credentials."""
    assert redactor.redact_text("Basic authentication failed") == "Basic authentication failed"


def test_pem_private_key_block_is_replaced(redactor: Redactor) -> None:
    """A whole PEM private-key block becomes one marker."""
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----"
    assert redactor.redact_text(f"key: {pem} done") == f"key: {REDACTED} done"


def test_unterminated_pem_block_is_replaced_to_the_end(redactor: Redactor) -> None:
    """A truncated PEM block fails closed: everything after BEGIN goes."""
    assert redactor.redact_text("x -----BEGIN PRIVATE KEY-----\nMIIE") == f"x {REDACTED}"


def test_order_number_failing_luhn_is_kept(redactor: Redactor) -> None:
    """A 16-digit number that fails the Luhn check is not a card."""
    assert redactor.redact_text("order 4111111111111112") == "order 4111111111111112"


def test_card_number_in_integer_is_replaced(redactor: Redactor) -> None:
    """An integer that is a valid card number is replaced."""
    assert redactor.redact_value(4111111111111111, "n") == REDACTED


def test_integer_failing_luhn_is_kept(redactor: Redactor) -> None:
    """An integer order number failing Luhn keeps its value and type."""
    assert redactor.redact_value(4111111111111112, "order_id") == 4111111111111112


def test_invalid_iban_is_kept(redactor: Redactor) -> None:
    """An IBAN-shaped string failing mod-97 is kept."""
    assert redactor.redact_text("ref GB00WEST12345698765432") == "ref GB00WEST12345698765432"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login failed password=hunter2 user=bob", f"login failed password={REDACTED} user=bob"),
        ("password: hunter2", f"password: {REDACTED}"),
        (
            '{"password": "hunter2", "user": "x"} tail',
            f'{{"password": "{REDACTED}", "user": "x"}} tail',
        ),
        ("kwargs {'api_key': 'abc', 'n': 1}", f"kwargs {{'api_key': '{REDACTED}', 'n': 1}}"),
        ("Authorization: Bearer tok", f"Authorization: Bearer {REDACTED}"),
        ("Cookie: a=b; c=d\nnext line", f"Cookie: {REDACTED}\nnext line"),
        ("run --db-password hunter2 --verbose", f"run --db-password {REDACTED} --verbose"),
        ("run --token=abc", f"run --token={REDACTED}"),
        ("GET /cb?page=1&sig=abc", f"GET /cb?page=1&sig={REDACTED}"),
    ],
)
def test_key_value_fragments_in_free_text(redactor: Redactor, text: str, expected: str) -> None:
    """``key=value``-like fragments whose key is sensitive lose their value."""
    assert redactor.redact_text(text) == expected


def test_fragment_with_benign_key_is_kept(redactor: Redactor) -> None:
    """``author=...`` in text is not a secret."""
    assert redactor.redact_text("author=alice token_count=12") == "author=alice token_count=12"


def test_custom_value_patterns_replace_matches() -> None:
    """``OTEL_DISTRO_REDACT_VALUES`` patterns replace their matches."""
    redactor = Redactor(extra_patterns=[r"ACME-[0-9]{6}"])
    assert redactor.redact_text("id ACME-123456 ok") == f"id {REDACTED} ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail bob@example.com now", f"mail {REDACTED} now"),
        ("from 203.0.113.7 ok", f"from {REDACTED} ok"),
        ("from 2001:db8::8a2e:370:7334 ok", f"from {REDACTED} ok"),
        ("call +44 20 7946 0958 now", f"call {REDACTED} now"),
        ("call +14155552671 now", f"call {REDACTED} now"),
    ],
)
def test_pii_patterns_when_enabled(text: str, expected: str) -> None:
    """With PII on, e-mails, IP addresses and phone numbers are masked."""
    assert Redactor(pii=True).redact_text(text) == expected


def test_pii_is_kept_by_default(redactor: Redactor) -> None:
    """PII masking is off by default."""
    assert redactor.redact_text("bob@example.com 203.0.113.7") == "bob@example.com 203.0.113.7"


def test_version_numbers_are_not_ip_addresses() -> None:
    """A dotted quad with an octet above 255 is not an IP address."""
    assert Redactor(pii=True).redact_text("v1.2.3.999") == "v1.2.3.999"


def test_luhn() -> None:
    """The Luhn check accepts valid and rejects altered numbers."""
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_iban_mod97() -> None:
    """The IBAN check accepts a valid IBAN with spaces and rejects a bad checksum."""
    assert iban_valid("DE89 3704 0044 0532 0130 00") and not iban_valid("DE88370400440532013000")


def test_numeric_token_in_text_is_redacted(redactor: Redactor) -> None:
    """A one-time code written as ``token=123456`` is a secret."""
    assert redactor.redact_text("token=839201") == f"token={REDACTED}"


def test_token_total_in_text_is_kept(redactor: Redactor) -> None:
    """``prompt_tokens: 120``-style counts are kept."""
    assert redactor.redact_text("used tokens: 120") == "used tokens: 120"


@pytest.mark.parametrize("placeholder", ["$1", "?", "%s", "%(pw)s"])
def test_sql_placeholders_are_kept(redactor: Redactor, placeholder: str) -> None:
    """``WHERE token = $1`` carries no secret: placeholders are kept."""
    text = f"UPDATE t SET x=1 WHERE token = {placeholder}"
    assert redactor.redact_text(text) == text


def test_digits_inside_hex_ids_are_not_cards(redactor: Redactor) -> None:
    """A Luhn-valid digit run glued to hex letters (trace ids) is not a card."""
    trace_id = "ab4111111111111111cd4bf92f3577b34d"
    assert redactor.redact_text(trace_id) == trace_id
