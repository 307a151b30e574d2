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


def test_open_state_expires_after_max_age(plain: Redactor) -> None:
    """A ``password:`` left open longer than ``max_age`` no longer masks the next text."""
    pw = mixed(14)
    now = [100.0]
    carry = TextCarry(max_age=5.0, clock=lambda: now[0])
    plain.redact_text("db password:", carry=carry)
    now[0] += 6.0
    assert plain.redact_text(f"{pw} later", carry=carry) == f"{pw} later"


def test_open_key_expires_after_max_texts(plain: Redactor) -> None:
    """A private key that never ends masks at most ``max_texts`` further texts."""
    carry = TextCarry(max_texts=3)
    plain.redact_text("-----BEGIN PRIVATE KEY-----\n" + _key_lines(1)[0], carry=carry)
    masked = [plain.redact_text(line, carry=carry) for line in _key_lines(3)]
    assert masked == [REDACTED] * 3
    after = f"{mixed(14)} next"
    assert plain.redact_text(after, carry=carry) == after


def test_may_open_sees_keys_and_blocks_at_the_end_only() -> None:
    """Only a text ending in ``key:``/``key=`` (quotes, spaces allowed) or holding a
    ``BEGIN`` marker can leave a state open."""
    assert TextCarry.may_open("password: ")
    assert TextCarry.may_open('token="')
    assert TextCarry.may_open("x -----BEGIN RSA PRIVATE KEY-----")
    assert not TextCarry.may_open("user=ann logged in")
    assert not TextCarry.may_open("")
