"""Red-team regressions on the way out: stdlib records, console handlers, thread exceptions,
bridge reports, outbound bodies and client request ids."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import httpx
import pytest

from otel_distro import logging as otel_logs
from otel_distro.http._hooks import _request_body
from otel_distro.logging._stdlib import _event_of
from otel_distro.redaction import REDACTED, Redactor
from tests.support.logs import Logs, make_settings
from tests.support.redaction import SECRET, STRADDLING, as_text

pytestmark = pytest.mark.usefixtures("clean_logging_state")


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
    assert SECRET not in as_text(
        redactor.redact_value(recorded, "http.request.header.x-request-id")
    )
