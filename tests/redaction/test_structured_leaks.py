"""Auth schemes in text, structured leaks (dict keys, argument lists, encodings, ...)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from otel_distro.redaction import REDACTED, Redactor

from ._plant import alnum, digits, hexs, mixed, urlsafe


@pytest.mark.parametrize("scheme", ["ApiKey", "SSWS", "Token", "Bearer", "Key", "GenieKey"])
@pytest.mark.parametrize(
    "form", ["Authorization: {s} {k}", "authorization={s} {k}", "'authorization': '{s} {k}'"]
)
def test_auth_scheme_credential_is_replaced(plain: Redactor, scheme: str, form: str) -> None:
    """``Authorization: <scheme> <credential>`` loses the credential, not only the scheme."""
    secret = urlsafe(24)
    out = plain.redact_text("sent " + form.format(s=scheme, k=secret) + " to upstream")
    assert secret not in out and REDACTED in out


def test_digest_response_is_replaced(plain: Redactor) -> None:
    """A Digest ``response=`` (and everything after the scheme) is replaced."""
    response, cnonce = hexs(32), hexs(16)
    header = (
        f'Authorization: Digest username="bob", realm="api", nonce="{hexs(16)}", uri="/x", '
        f'response="{response}", cnonce="{cnonce}"'
    )
    out = plain.redact_text(header)
    assert response not in out
    assert response not in plain.redact_text(f'digest: response="{response}"')


def test_secret_used_as_dict_key(plain: Redactor) -> None:
    """A token used as a mapping key (a session table) is replaced, values still walked."""
    token = urlsafe(32)
    out = plain.redact_value({"sessions": {token: {"user": "bob"}}}, "cache")
    assert token not in repr(out) and "bob" in repr(out)


@pytest.mark.parametrize(
    "argv",
    [
        ["redis-cli", "-a", "{pw}", "ping"],
        ["mysql", "-u", "root", "-p", "{pw}", "db"],
        ["tool", "login", "password", "{pw}"],
        ["tool", "--password={pw}"],
        ["tool", "--db-password", "{pw}", "--port", "5432"],
        ["tool", "--api-token", "{pw}"],
    ],
)
def test_flat_argument_lists(plain: Redactor, argv: list[str]) -> None:
    """Passwords in argument lists (short and long flags, name then value) are replaced."""
    pw = mixed(14)
    value = [item.format(pw=pw) for item in argv]
    assert pw not in repr(plain.redact_value(value, "process.command_args"))
    if any(item.startswith("-") for item in value):  # prose ("password x") is not read
        assert pw not in plain.redact_text(" ".join(value))


def test_short_flags_keep_ports_and_paths(plain: Redactor) -> None:
    """``-p 8080`` (a port) and ``-a /tmp`` (a path) are not passwords."""
    argv = ["ssh", "-p", "2222", "host", "ls", "-a", "/tmp"]
    assert plain.redact_value(argv, "process.command_args") == argv


@pytest.mark.parametrize("key", ["password", "api_token", "client_secret"])
def test_percent_and_base64_encoded_json(plain: Redactor, key: str) -> None:
    """JSON percent-encoded or base64-encoded in a value is redacted inside."""
    secret = urlsafe(20)
    doc = json.dumps({"user": "bob", key: secret})
    for encoded in (quote(doc, safe=""), base64.b64encode(doc.encode()).decode()):
        for out in (
            plain.redact_text(f"state={encoded} received"),
            plain.redact_value(encoded, "request.payload"),
            plain.redact_text(f"payload {encoded}"),
        ):
            assert secret not in out
            assert base64.b64encode(secret.encode()).decode()[:12] not in out


@pytest.mark.parametrize("key", ["token", "otp", "code", "verification_code", "pin", "mfa_code"])
def test_numeric_codes_under_code_keys(plain: Redactor, key: str) -> None:
    """Numeric verification codes under token/code keys are replaced (int or str)."""
    code = int(digits(6))
    assert plain.redact_value({key: code}, "body")[key] == REDACTED
    assert plain.redact_value({key: str(code)}, "body")[key] == REDACTED


def test_counts_and_status_codes_are_kept(plain: Redactor) -> None:
    """Token counts, HTTP status codes and error codes stay numbers."""
    value = {"input_tokens": 1234, "code": 404, "status_code": 503, "error_code": 100234}
    assert plain.redact_value(value, "usage") == value


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE USER app WITH PASSWORD '{pw}'",
        "ALTER ROLE app ENCRYPTED PASSWORD '{pw}' VALID UNTIL 'infinity'",
        "ALTER USER app IDENTIFIED BY '{pw}'",
        "CREATE USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY '{pw}'",
        "SET PASSWORD FOR 'app'@'%' = PASSWORD('{pw}')",
        'CREATE USER app PASSWORD "{pw}"',
    ],
)
def test_sql_passwords(plain: Redactor, sql: str) -> None:
    """Passwords in SQL statements are replaced, the statement kept."""
    pw = mixed(16).replace("'", "")
    out = plain.redact_value(sql.format(pw=pw), "db.statement")
    assert pw not in out and REDACTED in out


def test_keyerror_messages(plain: Redactor) -> None:
    """A ``KeyError`` message (the looked-up key) is replaced in attributes and text."""
    sid = urlsafe(16)
    event = {
        "exception.type": "KeyError",
        "exception.message": repr(sid),
        "exception.stacktrace": f"Traceback...\nKeyError: {sid!r}",
    }
    out = plain.redact_mapping(event)
    assert sid not in repr(out) and out["exception.type"] == "KeyError"
    assert sid not in plain.redact_text(f"lookup failed: KeyError({sid!r})")
    assert sid not in plain.redact_text(f"KeyError: {sid!r}")


def test_split_pem_block(plain: Redactor) -> None:
    """Both halves of a PEM key split across two records are replaced."""
    lines = [base64.b64encode(bytes.fromhex(hexs(96))).decode() for _ in range(4)]
    first = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines[:2])
    second = "\n".join(lines[2:]) + "\n-----END RSA PRIVATE KEY-----\nloaded"
    out = plain.redact_text(first) + plain.redact_text(second)
    assert not any(line in out for line in lines)
    assert plain.redact_text(second).endswith("loaded")


@pytest.mark.parametrize(
    "key", ["p\u0430ssword", "\u0440assword", "t\u043eken", "s\u0435cret", "pass\u200bword"]
)
def test_homoglyph_keys(plain: Redactor, key: str) -> None:
    """Keys written with look-alike letters or invisible characters match like Latin ones."""
    secret = alnum(16)
    assert plain.redact_mapping({key: secret}) == {key: REDACTED}
    assert secret not in plain.redact_text(f"{key}={secret}")


@pytest.mark.parametrize("glue", ["", "-", "--", ".", "_"])
@pytest.mark.parametrize("lead", ["number", "card"])
def test_key_glued_after_digits_is_read(plain: Redactor, glue: str, lead: str) -> None:
    """A ``key=value`` pair right after digits (``1111--password=...``, a card number
    before ``-token:``) is a pair on the first pass: the number is never part of the key."""
    number = digits(6) if lead == "number" else "4111.1111.1111.1111"
    secret = alnum(14)
    text = f"row {number}{glue}password={secret} kept"
    once = plain.redact_text(text)
    assert secret not in once
    assert plain.redact_text(once) == once


@pytest.mark.parametrize("text", ["a 1-password reset", "at 12:30:05 on 2024-01-01", "v1.2.3 ok"])
def test_digits_before_words_stay_prose(plain: Redactor, text: str) -> None:
    """Digits before a word with no ``:``/``=`` pair after it change nothing."""
    assert plain.redact_text(text) == text
