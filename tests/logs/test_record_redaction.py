"""Redaction on the record, not in one handler: every consumer downstream of the record
(and of Python's own traceback and warning printing) sees redacted text."""

from __future__ import annotations

import io
import logging
import secrets
import sys
import traceback
import warnings

import pytest

from otel_distro.logging import _scrub
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")

REDACTED = "REDACTED"


def plant() -> str:
    return "s" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def capture(logger: logging.Logger) -> tuple[list[logging.LogRecord], logging.Handler]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger.addHandler(handler)
    return records, handler


def test_message_with_a_secret_becomes_the_redacted_text(log_setup: Logs) -> None:
    """msg is the redacted message and args are empty, so no handler formats the raw
    argument (Sentry's logentry.params included)."""
    secret = plant()
    records, handler = capture(logging.getLogger("app"))
    logging.getLogger("app").info("login password=%s from %s", secret, "10.0.0.1")
    logging.getLogger("app").removeHandler(handler)
    (record,) = records
    assert record.msg == f"login password={REDACTED} from 10.0.0.1" and record.args == ()
    assert sorted(log_setup.attributes()["otel_distro.redacted"]) == ["password:body"]


def test_clean_message_keeps_its_template_and_arguments(log_setup: Logs) -> None:
    """A record without secrets is left exactly as it was made (grouping by template)."""
    records, handler = capture(logging.getLogger("app"))
    logging.getLogger("app").info("user %s logged in", "ann")
    logging.getLogger("app").removeHandler(handler)
    assert (records[0].msg, records[0].args) == ("user %s logged in", ("ann",))


def test_mapping_argument_is_redacted_by_key(log_setup: Logs) -> None:
    """``%(password)s`` with a mapping: the value is redacted by its key, for every handler."""
    secret = plant()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("app").addHandler(handler)
    logging.getLogger("app").warning("%(user)s %(password)s", {"user": "bob", "password": secret})
    logging.getLogger("app").removeHandler(handler)
    assert stream.getvalue() == f"bob {REDACTED}\n"


def test_extra_values_are_redacted_by_key(log_setup: Logs) -> None:
    """``extra=`` values under sensitive keys are redacted on the record."""
    secret = plant()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s api_key=%(api_key)s site=%(site)s"))
    logging.getLogger("app").addHandler(handler)
    logging.getLogger("app").warning("call", extra={"api_key": secret, "site": "s-1"})
    logging.getLogger("app").removeHandler(handler)
    assert stream.getvalue() == f"call api_key={REDACTED} site=s-1\n"


def test_traceback_text_of_the_record_is_redacted(log_setup: Logs) -> None:
    """A handler's formatter prints the redacted traceback (exc_text)."""
    secret = plant()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("app").addHandler(handler)
    try:
        raise ConnectionError(f"dsn postgres://app:{secret}@db/x")
    except ConnectionError:
        logging.getLogger("app").exception("db down")
    logging.getLogger("app").removeHandler(handler)
    assert "ConnectionError: dsn postgres://" in stream.getvalue()
    assert secret not in stream.getvalue()


def test_stack_info_is_redacted(log_setup: Logs) -> None:
    """stack_info text is redacted on the record (a secret in a source line)."""
    secret = plant()
    records, handler = capture(logging.getLogger("app"))
    logging.getLogger("app").info("here", stack_info=True, stacklevel=1)
    record = logging.makeLogRecord({"msg": "x", "stack_info": f"token={secret}"})
    _scrub.redact_record(record, frozenset(vars(record)), 65536)
    logging.getLogger("app").removeHandler(handler)
    assert record.stack_info == f"token={REDACTED}"
    assert records[0].stack_info and "Stack (most recent call last)" in records[0].stack_info


_SENTRY_SCRIPT = """
import json, logging, sys
import sentry_sdk
from sentry_sdk.transport import Transport
from otel_distro import logging as otel_logs
from otel_distro.config import load_settings

events = []

class Keep(Transport):
    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            events.append(event)

otel_logs.configure(load_settings({"ENVIRONMENT": "production"}))
sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=Keep)
logging.getLogger("app").error("charge failed token=%s", sys.argv[1])
sentry_sdk.flush()
print(json.dumps([event["logentry"] for event in events]))
"""


def test_sentry_logging_integration_gets_no_raw_params() -> None:
    """Sentry's logging integration reads msg/args: ``logentry.params`` hold no secret
    (in a process of its own: Sentry's integrations patch the process for good)."""
    import importlib.util
    import json
    import subprocess

    from tests.support.ci import require

    require(importlib.util.find_spec("sentry_sdk") is not None, "sentry-sdk is not installed")

    secret = plant()
    result = subprocess.run(
        [sys.executable, "-c", _SENTRY_SCRIPT, secret],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (entry,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert secret not in json.dumps(entry) and secret not in result.stderr
    assert entry["params"] == []
    assert entry["message"] == f"charge failed token={REDACTED}"


def test_warnings_text_is_redacted(log_setup: Logs) -> None:
    """warnings.warn text reaches the warning stream redacted."""
    secret = plant()
    stream = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        showwarning = warnings.showwarning
        warnings.showwarning = sys.modules["otel_distro.logging._excepthooks"]._showwarning
        try:
            message = f"deprecated client_secret={secret}"
            warnings.showwarning(UserWarning(message), UserWarning, __file__, 1, stream, "")
        finally:
            warnings.showwarning = showwarning
    assert "UserWarning: deprecated client_secret=" in stream.getvalue()
    assert secret not in stream.getvalue()


def test_captured_warnings_are_redacted_records(log_setup: Logs) -> None:
    """logging.captureWarnings(True): the py.warnings record is redacted."""
    secret = plant()
    records, handler = capture(logging.getLogger("py.warnings"))
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn(f"password={secret}", UserWarning, stacklevel=1)
    finally:
        logging.captureWarnings(False)
        logging.getLogger("py.warnings").removeHandler(handler)
    assert records and secret not in records[0].getMessage()


def test_traceback_print_exc_is_redacted(log_setup: Logs) -> None:
    """traceback.print_exc() writes the redacted traceback."""
    secret = plant()
    stream = io.StringIO()
    try:
        raise PermissionError(f"access_token={secret}")
    except PermissionError:
        traceback.print_exc(file=stream)
    assert "PermissionError: access_token=" in stream.getvalue()
    assert secret not in stream.getvalue()


def test_clean_traceback_prints_as_before(log_setup: Logs) -> None:
    """A traceback without secrets prints exactly as Python prints it (not a KeyError: the
    looked-up key is masked by default)."""
    stream = io.StringIO()
    try:
        raise ValueError("plain")
    except ValueError:
        expected = "".join(traceback.format_exception(*sys.exc_info()))
        traceback.print_exc(file=stream)
    assert stream.getvalue() == expected


def test_default_excepthook_prints_redacted_and_exports(
    log_setup: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    """sys.excepthook (Python's default replaced by ours): redacted on stderr, one FATAL
    record exported."""
    secret = plant()
    assert sys.excepthook is not sys.__excepthook__
    try:
        raise RuntimeError(f"boot failed api_key={secret}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert "RuntimeError: boot failed api_key=" in err and secret not in err
    (record,) = log_setup.records()
    assert record.log_record.severity_text == "FATAL"
    attributes = dict(record.log_record.attributes or {})
    assert attributes["exception.type"] == "RuntimeError" and secret not in str(attributes)


def test_exceptiongroup_backport_hook_counts_as_pythons(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ``exceptiongroup`` backport replaces ``sys.excepthook`` on import (Python 3.10):
    that hook is replaced too, prints a clean traceback itself and is put back after."""
    from otel_distro.logging import _excepthooks

    printed: list[BaseException] = []

    def exceptiongroup_excepthook(
        kind: type[BaseException], value: BaseException, tb: object
    ) -> None:
        printed.append(value)

    exceptiongroup_excepthook.__module__ = "exceptiongroup._formatting"
    exported: list[str] = []
    _excepthooks.uninstall()
    monkeypatch.setattr(sys, "excepthook", exceptiongroup_excepthook)
    _excepthooks.install(lambda name, exc_info: exported.append(name))
    try:
        assert sys.excepthook is not exceptiongroup_excepthook
        secret = plant()
        for message in ("clean failure", f"boot failed token={secret}"):
            try:
                raise RuntimeError(message)
            except RuntimeError:
                sys.excepthook(*sys.exc_info())
    finally:
        _excepthooks.uninstall()
    assert [str(value) for value in printed] == ["clean failure"]
    err = capsys.readouterr().err
    assert "RuntimeError: boot failed token=REDACTED" in err and secret not in err
    assert exported == ["sys.excepthook", "sys.excepthook"]
    assert sys.excepthook is exceptiongroup_excepthook
