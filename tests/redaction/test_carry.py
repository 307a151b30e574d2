"""Secrets split across consecutive texts of one stream (``TextCarry``)."""

from __future__ import annotations

import base64
import secrets

from otel_distro.redaction import REDACTED, Redactor, TextCarry

from ._plant import mixed


def _key_lines(count: int) -> list[str]:
    return [base64.b64encode(secrets.token_bytes(48)).decode() for _ in range(count)]


def test_pem_split_over_three_records(plain: Redactor) -> None:
    """Begin, middle and end records of one key are all replaced; the text after it stays."""
    lines = _key_lines(6)
    carry = TextCarry()
    records = [
        "loading key\n-----BEGIN PRIVATE KEY-----\n" + lines[0],
        "\n".join(lines[1:5]),
        lines[5] + "\n-----END PRIVATE KEY-----\nkey loaded",
        "next request",
    ]
    out = [plain.redact_text(text, carry=carry) for text in records]
    joined = "\n".join(out)
    assert not any(line in joined for line in lines)
    assert out[0].startswith("loading key") and out[2].endswith("key loaded")
    assert out[3] == "next request"


def test_password_value_in_next_record(plain: Redactor) -> None:
    """A ``password:`` ending one record makes the first token of the next one secret."""
    pw = mixed(14)
    carry = TextCarry()
    assert plain.redact_text("db password:", carry=carry) == "db password:"
    assert plain.redact_text(f"{pw} (from vault)", carry=carry) == f"{REDACTED} (from vault)"
    assert plain.redact_text("ok", carry=carry) == "ok"


def test_streams_are_independent(plain: Redactor) -> None:
    """Another stream's carry is not affected."""
    pw = mixed(14)
    first, second = TextCarry(), TextCarry()
    plain.redact_text("password=", carry=first)
    assert plain.redact_text(pw, carry=second) == pw
    assert plain.redact_text(pw, carry=first) == REDACTED
