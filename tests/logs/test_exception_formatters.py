"""Exceptions on records read by formatters that print them themselves.

structlog's ``ProcessorFormatter`` on a host handler formats ``exc_info`` with
``format_exc_info`` or ``dict_tracebacks`` (frames with local variables), never the
record's redacted ``exc_text``; a handler may read ``record.exc_info`` directly.  Every
one of them sees the exception redacted, while type, frames and clean message parts
stay as they were.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tests.redaction._plant import alnum, urlsafe
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


class Failed(RuntimeError):
    """An application exception with its own constructor and a field."""

    def __init__(self, message: str, order: int) -> None:
        super().__init__(message)
        self.order = order


@pytest.fixture
def host() -> Iterator[tuple[logging.Logger, io.StringIO, list[logging.Handler]]]:
    logger = logging.getLogger("hostapp")
    stream = io.StringIO()
    handlers: list[logging.Handler] = []
    yield logger, stream, handlers
    for handler in handlers:
        logger.removeHandler(handler)


def _attach(
    host: tuple[logging.Logger, io.StringIO, list[logging.Handler]], *processors: Any
) -> None:
    logger, stream, handlers = host
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *processors,
                structlog.processors.JSONRenderer(),
            ]
        )
    )
    logger.addHandler(handler)
    handlers.append(handler)


def _raise_chain(token: str, sid: str, note: str) -> None:
    try:
        raise KeyError(sid)
    except KeyError as exc:
        failure = Failed(f"charge failed for order 42 api_key={token}", 42)
        failure.__notes__ = [f"retry with password={note}"]
        raise failure from exc


@pytest.mark.parametrize(
    "processor",
    [structlog.processors.format_exc_info, structlog.processors.dict_tracebacks],
    ids=["format_exc_info", "dict_tracebacks"],
)
def test_processor_formatter_on_a_host_handler_is_redacted(
    log_setup: Logs, host: Any, processor: Any
) -> None:
    """A stdlib record's exception formatted by ProcessorFormatter: message, notes, the
    chained KeyError and the frames' local variables holding the same values."""
    _attach(host, processor)
    token, sid, note = urlsafe(), alnum(28), alnum(16)
    held = token  # a local variable with an ordinary name holding the secret
    try:
        _raise_chain(held, sid, note)
    except Failed:
        host[0].exception("checkout failed")
    out = host[1].getvalue()
    for secret in (token, sid, note):
        assert secret not in out
    line = json.loads(out)
    text = json.dumps(line["exception"])
    assert "charge failed for order 42 api_key=REDACTED" in text
    assert "Failed" in text and "KeyError" in text and "_raise_chain" in text


def test_structlog_event_with_exc_info_through_processor_formatter(
    log_setup: Logs, host: Any
) -> None:
    """structlog's own event (``wrap_for_formatter``) with ``exc_info=True``."""
    _attach(host, structlog.processors.dict_tracebacks)
    logger = structlog.wrap_logger(
        host[0], processors=[structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    )
    token = urlsafe()
    try:
        raise Failed(f"refused token={token}", 7)
    except Failed:
        logger.error("payment_failed", exc_info=True)
    out = host[1].getvalue()
    assert token not in out
    assert json.loads(out)["exception"][0]["exc_value"] == "refused token=REDACTED"


def test_a_handler_reading_exc_info_sees_a_redacted_look_alike(log_setup: Logs) -> None:
    """``record.exc_info`` holds a look-alike: same type name, ``isinstance``, frames and
    fields, redacted ``str``/``args``/chain; ``logger.exception`` still prints the type,
    the frames and the clean part of the message."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("hostapp.keep")
    stream = io.StringIO()
    printer = logging.StreamHandler(stream)
    keep = Keep()
    logger.addHandler(keep)
    logger.addHandler(printer)
    token, sid, note = urlsafe(), alnum(28), alnum(16)
    try:
        try:
            _raise_chain(token, sid, note)
        except Failed as exc:
            original = exc
            logger.exception("checkout failed")
    finally:
        logger.removeHandler(keep)
        logger.removeHandler(printer)
    (record,) = seen
    assert record.exc_info is not None
    kind, value, tb = record.exc_info
    assert (
        isinstance(value, Failed) and kind.__qualname__ == "Failed" and kind.__module__ == __name__
    )
    assert value.order == 42 and value is not original
    assert str(value) == "charge failed for order 42 api_key=REDACTED"
    assert value.args == ("charge failed for order 42 api_key=REDACTED",)
    assert value.__notes__ == ["retry with password=REDACTED"]
    assert isinstance(value.__cause__, KeyError) and sid not in str(value.__cause__)
    assert tb is original.__traceback__
    assert traceback.extract_tb(tb) == traceback.extract_tb(original.__traceback__)
    printed = stream.getvalue()
    assert "Traceback (most recent call last)" in printed and "_raise_chain" in printed
    assert f"{__name__}.Failed: charge failed for order 42 api_key=REDACTED" in printed
    for secret in (token, sid):
        assert secret not in printed


def test_a_clean_exception_stays_the_same_object(log_setup: Logs) -> None:
    """Nothing to replace: the record keeps the exception the application raised."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("hostapp.clean")
    keep = Keep()
    logger.addHandler(keep)
    try:
        try:
            raise Failed("order 42 not found", 42)
        except Failed as exc:
            original = exc
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(keep)
    assert seen[0].exc_info is not None and seen[0].exc_info[1] is original


def test_numeric_code_and_os_error_fields(log_setup: Logs, host: Any) -> None:
    """An ``OSError`` keeps its errno and message with a redacted file name."""
    _attach(host, structlog.processors.dict_tracebacks)
    token = alnum(24)
    try:
        open(f"/nonexistent/reset/{token}/x")  # noqa: SIM115
    except OSError:
        host[0].exception("read failed")
    out = host[1].getvalue()
    assert token not in out
    (failure,) = json.loads(out)["exception"]
    assert failure["exc_type"] == "FileNotFoundError"
    assert failure["exc_value"].startswith("[Errno 2] No such file or directory: '/nonexistent/")


def test_format_output_is_never_cut(log_setup: Logs, host: Any) -> None:
    """A formatted text longer than the scan limit (each part of it shorter) is redacted
    whole, never cut."""
    _attach(host, structlog.processors.format_exc_info)
    token = urlsafe()
    padding = "x " * 17_000
    try:
        raise ValueError(f"{padding} secret={token}")
    except ValueError:
        host[0].exception("big %s", padding)
    out = host[1].getvalue()
    assert len(out) > 65536 and out.count(padding) == 2
    assert token not in out and "truncated" not in out
