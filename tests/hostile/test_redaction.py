"""Red-team regressions: secrets planted in shapes that once got through the engine.

Each case is a value an application or a client really produces (a query string with
a percent-encoded key, a header list, a pydantic error, a log value cut at the scan
limit); the secret must be gone and benign look-alikes kept.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Annotated, Any

import httpx
import pydantic
import pytest

from otel_distro import logging as otel_logs
from otel_distro.http._hooks import _request_body
from otel_distro.logging._stdlib import _event_of
from otel_distro.logging._values import clean, exception_attributes
from otel_distro.redaction import REDACTED, TRUNCATED, RedactionReport, Redactor
from tests.support.logs import Logs, make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")


SECRET = "Hx7SECRETq9w8e7r6"
MB = 1024 * 1024


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def _dump(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


# --- query strings --------------------------------------------------------------

QUERIES = [
    f"pass%77ord={SECRET}",
    f"%70assword={SECRET}",
    f"token[]={SECRET}",
    f"token%5B%5D={SECRET}",
    f"user%5Bpassword%5D={SECRET}",
    f"a=1;password={SECRET}",
    f"PASSWORD={SECRET}",
    f"api_key=x&api_key={SECRET}",
    f"redirect=https%3A%2F%2Fidp.example%2Fcb%3Fstate%3D1%26access_token%3D{SECRET}",
    f"next=%2Flogin%3Fpassword%3D{SECRET}",
    f"next=https%3A%2F%2Fsvc%3A{SECRET}%40db.example%2F",
    f"r=https%253A%252F%252Fx%252Fcb%253Ftoken%253D{SECRET}",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("key", ["url.query", "http.target", "url.full", "http.url"])
def test_query_shapes_are_redacted_under_every_url_attribute(
    redactor: Redactor, query: str, key: str
) -> None:
    """Encoded keys, array keys, ``;``, repeats and URLs encoded inside values."""
    value = {"url.query": query, "http.target": f"/p?{query}"}.get(key, f"https://h/p?{query}")
    assert SECRET not in redactor.redact_value(value, key)
    target = f"/p?{query}" if key == "url.query" else value
    assert SECRET not in redactor.redact_text(f"GET {target} HTTP/1.1")


def test_fragment_parameters_and_relative_urls_in_text(redactor: Redactor) -> None:
    """A relative target in free text (an access-log line) is read as a query."""
    text = f"GET /cb?state=1&token[]={SECRET}#access_token={SECRET} 200"
    assert SECRET not in redactor.redact_text(text)
    assert SECRET not in redactor.redact_url(f"/cb#id_token={SECRET}&x=1")


def test_benign_queries_are_unchanged(redactor: Redactor) -> None:
    """Ordinary and encoded-but-clean parameters keep every byte."""
    for url in (
        "/search?q=author%3Djane&page=2&token_count=12",
        "https://h/p?next=%2Fcb%3Fa%3D1%26b%3D2&sort=name",
        "/p?what? yes=1",
    ):
        assert redactor.redact_value(url, "http.target") == url
        assert redactor.redact_text(f"GET {url}") == f"GET {url}"


def test_nested_url_keeps_its_encoding_and_other_parameters(redactor: Redactor) -> None:
    url = "https://h/p?redirect=https%3A%2F%2Fx%2Fcb%3Ftoken%3Dabc%26view%3Dfull&page=2"
    assert redactor.redact_url(url) == (
        "https://h/p?redirect=https%3A%2F%2Fx%2Fcb%3Ftoken%3DREDACTED%26view%3Dfull&page=2"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/reset-password/{}",
        "/api/v1/password_reset/{}/confirm",
        "/invite/token/{}",
        "/api-keys/{}/rotate",
    ],
)
def test_generated_path_segment_after_a_sensitive_one(redactor: Redactor, path: str) -> None:
    """Reset links and similar: the secret is a path segment named by the one before it."""
    token = "3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b"
    target = path.format(token)
    for key in ("url.path", "http.target", "app.note"):
        assert token not in _dump(redactor.redact_value(target, key))
    assert token not in redactor.redact_text(f"GET https://app.example{target}?x=1 200")


def test_ordinary_paths_are_kept(redactor: Redactor) -> None:
    """Route words after a sensitive segment, and ids under ordinary segments, stay."""
    for path in (
        "/auth/login",
        "/api/tokens/list",
        "/password/reset",
        "/users/3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b",
        "/sites/site-42/status",
    ):
        assert redactor.redact_value(path, "url.path") == path


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
    assert SECRET not in _dump(result) and "jane" in _dump(result)
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


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("retry with password=%s after %s", (SECRET,)),
        ("token=%s", (SECRET, "surplus")),
        ("pw=%d", (SECRET,)),
        ("%(password)s and %(missing)s", ({"password": SECRET},)),
    ],
)
def test_stdlib_message_whose_formatting_fails(
    redactor: Redactor, msg: str, args: tuple[Any, ...]
) -> None:
    """A log call with the wrong arguments keeps each secret next to its key."""
    record = logging.LogRecord("app", logging.INFO, __file__, 1, msg, args, None)
    event, _, _ = _event_of(record, 65536)
    assert SECRET not in redactor.redact_text(event), event


def test_app_console_handler_does_not_print_raw_records(
    log_setup: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    """``basicConfig(force=True)`` in the app: its stderr handler is kept and prints the
    record redacted; the exported record is redacted too."""
    logging.basicConfig(force=True, level=logging.INFO)
    logging.getLogger("app").warning("login pw=%s", SECRET)
    err = capsys.readouterr().err
    assert "login pw=" in err and SECRET not in err
    assert logging.StreamHandler in [type(h) for h in logging.getLogger().handlers]
    (record,) = log_setup.records()
    assert SECRET not in str(record.log_record.body)


def test_uncaught_thread_exception_is_a_redacted_record(
    log_setup: Logs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python printed it raw on stderr; it is one ERROR record through the pipeline now."""
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)  # not pytest's
    otel_logs.configure(make_settings(), log_setup.provider)

    def work() -> None:
        raise ConnectionError(f"lost connection: password={SECRET}")

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    lines = log_setup.json_lines()
    assert SECRET not in capsys.readouterr().err
    assert [line["event"] for line in lines] == ["Exception in thread worker"]
    assert lines[0]["exception.message"] == f"lost connection: password={REDACTED}"
    assert SECRET not in json.dumps(lines)


def test_bridge_records_say_what_was_redacted(log_setup: Logs) -> None:
    """Log records carry ``otel_distro.redacted`` (rule:path, never the text), like spans."""
    otel_logs.get_logger("app").info(f"login token={SECRET}", password=SECRET, site="site-42")
    attributes = log_setup.attributes()
    assert sorted(attributes["otel_distro.redacted"]) == ["password:password", "token:body"]
    assert SECRET not in json.dumps(log_setup.json_lines())
    clean_record = otel_logs.get_logger("app").info
    clean_record("nothing_secret", site="site-42")
    assert "otel_distro.redacted" not in log_setup.attributes()


@pytest.mark.parametrize("offset", [5, 12, 30])
def test_outbound_body_cut_inside_a_token_shows_none_of_it(offset: int) -> None:
    """``EXTERNAL_HTTP_MAX_BODY_BYTES`` cut a token in half: its head was logged as is."""
    token = STRADDLING[0]
    data = ("a " * 100 + token + " tail").encode()
    cut = 200 + offset
    body = _request_body(httpx.ByteStream(data), cut)
    assert body is not None and body.endswith("...[truncated]")
    assert token[:offset] not in body and body.startswith("a a ")
    short = _request_body(httpx.ByteStream(b"0123456789abcdef"), 8)
    assert short == "01234567...[truncated]"  # a short run is not a secret shape


def test_client_request_id_carrying_a_secret(redactor: Redactor) -> None:
    """A client-sent ``X-Request-ID: token=...`` is recorded sanitised on the server span."""
    from otel_distro.asgi import sanitize_request_id

    recorded = [sanitize_request_id(f"token={SECRET}")]
    assert SECRET not in _dump(redactor.redact_value(recorded, "http.request.header.x-request-id"))


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
        _dump(redactor.redact_value(errors, "errors")),
    ):
        assert SECRET not in rendered
        assert "not-a-number" in rendered  # a non-secret field's input stays


def test_validation_report_names_the_rule(redactor: Redactor) -> None:
    report = RedactionReport()
    redactor.redact_value(_validation_error().errors(), "errors", report=report)
    assert any(entry.startswith("password:") for entry in report.entries), report.entries


# --- log values cut at the scan limit ------------------------------------------------

STRADDLING = [
    "ghp_" + "Zq9" * 12,
    "AKIAZQ7EXAMPLEKEY0AB",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6In0.c2lnbmF0dXJlLXZhbHVl",
    "sk_live_" + "Zq9x" * 6,
]


@pytest.mark.parametrize("secret", STRADDLING)
@pytest.mark.parametrize("offset", [4, 11, 19])
def test_log_value_cut_inside_a_secret_shows_none_of_it(secret: str, offset: int) -> None:
    """The log path cuts long values before redaction: never in the middle of a token."""
    limit = 4096
    value = "word " * ((limit - offset) // 5) + " " * ((limit - offset) % 5) + secret
    cleaned = clean(value, limit)
    result = Redactor(max_scan=limit).redact_value(cleaned, "blob")
    assert secret[:offset] not in result[-64:], result[-64:]
    assert result.endswith(TRUNCATED) and result.count(TRUNCATED) == 1
    assert len(result) <= limit + len(TRUNCATED)


def test_long_stacktrace_tail_starts_at_a_line() -> None:
    """Only the end of a long traceback is kept; it never starts inside a token."""
    secret = STRADDLING[0]
    try:
        raise ValueError("x" * 5000 + "\n" + secret + "\nend")
    except ValueError as exc:
        attributes = exception_attributes(exc, len(secret) // 2 + len("\nend\n"))
    assert attributes is not None
    stack = attributes["exception.stacktrace"]
    assert secret[len(secret) // 2 :] not in stack and stack.startswith("end")


# --- the new scanners stay bounded ----------------------------------------------------

PATHOLOGICAL = {
    "tuple pairs": lambda: "('password', " * (MB // 13),
    "query marks": lambda: "?a=%" * (MB // 4),
    "loc without input": lambda: "'loc': ('password',) " * (MB // 21),
    "loc and input": lambda: "'loc': ('password',), 'input': '" * (MB // 33),
    "pydantic lines": lambda: "password\n  x [type=a, input_value=" * (MB // 36),
    "escaped quotes": lambda: '\\"password\\": \\"' * (MB // 16),
    "encoded percent": lambda: "?r=" + "%25" * (MB // 3),
    "path segments": lambda: "/token/" + "a1" * 300 + "/" * 10 + "/token" * (MB // 6),
    "json string of brackets": lambda: '"' + "{" * (MB - 2) + '"',
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_inputs_for_the_new_scanners(name: str) -> None:
    """A 1 MB adversarial string comes back bounded and never raises."""
    result = Redactor().redact_value(PATHOLOGICAL[name](), "body")
    assert isinstance(result, str) and len(result) <= 65536 + len(TRUNCATED)
