"""Red-team regressions, structures: header pairs, reprs, nested JSON, credential keys and
validation errors that echo their input."""

from __future__ import annotations

import json
from typing import Annotated

import pydantic
import pytest

from otel_distro.redaction import REDACTED, RedactionReport, Redactor
from tests.support.redaction import SECRET, as_text

pytestmark = pytest.mark.usefixtures("clean_logging_state")


# --- structures -------------------------------------------------------------------


def test_header_pairs_and_argument_lists(redactor: Redactor) -> None:
    """``[name, value]`` pairs (also bytes, as in ASGI scopes) and ``--flag value`` lists."""
    value = {
        "headers": [["authorization", SECRET], ("x-api-key", SECRET), ["accept", "json"]],
        "raw": [(b"cookie", SECRET.encode()), (b"host", b"h")],
        "argv": ["uvicorn", "--ssl-keyfile-password", SECRET, "--port", "8000"],
        "args": ("--token", SECRET),
    }
    result = redactor.redact_value(value, "scope")
    assert SECRET not in repr(result)
    assert result["headers"][2] == ["accept", "json"]
    assert result["argv"][3:] == ["--port", "8000"]
    assert result["raw"][1] == (b"host", b"h")


def test_sequences_that_are_not_pairs_are_kept(redactor: Redactor) -> None:
    """Field-name lists and ordinary pairs are not mistaken for secrets."""
    names = ["password", "token", "email"]
    assert redactor.redact_value(names, "required") == names
    assert redactor.redact_value(["name", "bob"], "pair") == ["name", "bob"]
    assert redactor.redact_value(["--verbose", "x"], "argv") == ["--verbose", "x"]


def test_json_encoded_twice_is_redacted(redactor: Redactor) -> None:
    """A JSON document serialised again as a JSON string, and escaped fragments."""
    twice = json.dumps(json.dumps({"password": SECRET, "author": "jane"}))
    result = redactor.redact_value({"double": twice}, "body")
    assert SECRET not in as_text(result) and "jane" in as_text(result)
    cut = '{"payload": "{\\"clientSecret\\": \\"' + SECRET + '\\", \\"n\\": 1'
    assert SECRET not in redactor.redact_text(cut)


def test_python_reprs_of_pairs_and_bytes(redactor: Redactor) -> None:
    """Exception args and reprs: ``('x-api-key', '...')`` tuples and ``b'...'`` values."""
    for text in (
        f"PermissionError: ('denied', ('x-api-key', '{SECRET}'))",
        f"[(b'authorization', b'{SECRET}'), (b'host', b'h')]",
        f"{{'api_key': b'{SECRET}'}}",
    ):
        assert SECRET not in redactor.redact_text(text), text
    kept = "[('name', 'bob'), ('token_count', 3)]"
    assert redactor.redact_text(kept) == kept


@pytest.mark.parametrize(
    "key",
    [
        "pw",
        "passcode",
        "otp",
        "bearer",
        "userPw",
        "x-authentication",
        "authn",
        "creds",
        "x-signature",
        "mfa_code",
        "recoveryCodes",
        "sshKey",
        "hmac_key",
        "licenseKey",
        "id_rsa",
    ],
)
def test_more_credential_keys(redactor: Redactor, key: str) -> None:
    assert redactor.redact_mapping({key: SECRET})[key] == REDACTED
    assert SECRET not in redactor.redact_text(f"login {key}={SECRET}")


@pytest.mark.parametrize(
    "key",
    ["author", "authority", "token_count", "browserSessionId", "power", "pwa", "code", "pinned"],
)
def test_look_alike_keys_are_kept(redactor: Redactor, key: str) -> None:
    assert redactor.redact_mapping({key: "value-1"}) == {key: "value-1"}


def test_secrets_in_mapping_keys(redactor: Redactor) -> None:
    """Captured header names and logged JSON keys are attribute keys: they are scanned too."""
    github = "ghp_" + "Kq8" * 12
    stripe = "sk_live_" + "Kq8w" * 6
    value = {
        f"http.request.header.{github}": ["1"],
        "body": {"nested": {stripe: "x"}, "site": "site-42"},
        "ok": 1,
    }
    report = RedactionReport()
    result = redactor.redact_mapping(value, report=report)
    assert github not in repr(result) and stripe not in repr(result)
    assert result["ok"] == 1 and result["body"]["site"] == "site-42"
    assert "github_token:(key)" in report.entries
    assert redactor.redact_mapping({"http.request.header.x_api_key": "1", "a.b": 2}) == {
        "http.request.header.x_api_key": REDACTED,
        "a.b": 2,
    }


# --- validation errors that echo their input ----------------------------------------


class _Signup(pydantic.BaseModel):
    name: str
    password: Annotated[str, pydantic.StringConstraints(max_length=4)]
    apiKey: str = pydantic.Field(min_length=64)  # the client's camelCase name


class _Outer(pydantic.BaseModel):
    signup: _Signup
    age: int


def _validation_error() -> pydantic.ValidationError:
    try:
        _Outer.model_validate(
            {
                "signup": {"name": "n", "password": SECRET, "apiKey": SECRET},
                "age": "not-a-number",
            }
        )
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("the model accepted the input")


def test_pydantic_error_text_and_errors_are_redacted(redactor: Redactor) -> None:
    """``str(exc)``, ``exc.errors()`` as structure, as repr and as JSON."""
    exc = _validation_error()
    errors = exc.errors()
    for rendered in (
        redactor.redact_text(str(exc)),
        redactor.redact_text(str(errors)),
        redactor.redact_text(json.dumps(errors)),
        as_text(redactor.redact_value(errors, "errors")),
    ):
        assert SECRET not in rendered
        assert "not-a-number" in rendered  # a non-secret field's input stays


def test_validation_report_names_the_rule(redactor: Redactor) -> None:
    report = RedactionReport()
    redactor.redact_value(_validation_error().errors(), "errors", report=report)
    assert any(entry.startswith("password:") for entry in report.entries), report.entries
