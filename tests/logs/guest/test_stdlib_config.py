"""The application's own logging configuration wins (standard-library logging):
each scenario behaves as without the distro (the same scenario is run without it first),
while records are still exported and planted secrets are redacted in every output."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from otel_distro import logging as otel_logs
from tests.support.guest import (
    REDACTED,
    dict_config,
    plant,
    run_dict_config,
    without_distro,
)
from tests.support.logs import Logs, make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")


def test_dict_config_handler_formatter_filter_and_level_stay(log_setup: Logs) -> None:
    """After the app's dictConfig its handler, formatter, filter, DEBUG level and stream
    are as without the distro, and its handler prints the same lines (secret redacted)."""
    secret = plant()
    expected, expected_shape = without_distro(log_setup, lambda: run_dict_config(secret))
    assert secret in expected
    printed, shape = run_dict_config(secret)
    assert shape == expected_shape
    assert printed == expected.replace(secret, REDACTED)
    assert secret not in printed


def test_dict_config_records_are_still_exported_redacted(log_setup: Logs) -> None:
    """The distro's export path sits next to the app's handler: every record the app's
    levels let through is exported once, redacted; no distro line is written."""
    secret = plant()
    run_dict_config(secret)
    bodies = [r.log_record.body for r in log_setup.records()]
    assert bodies == ["debug detail 7", f"login password={REDACTED}", "drop this one", "careful"]
    assert log_setup.lines() == []


def test_basic_config_error_level_keeps_warnings_out(log_setup: Logs) -> None:
    """basicConfig(level=ERROR, force=True): WARNING reaches neither the app's handler nor
    the export; the root level stays ERROR."""
    stream = io.StringIO()
    logging.basicConfig(level=logging.ERROR, force=True, stream=stream)
    logging.getLogger("app").warning("not shown")
    logging.getLogger("app").error("shown")
    assert logging.getLogger().level == logging.ERROR
    assert stream.getvalue() == "ERROR:app:shown\n"
    assert [r.log_record.body for r in log_setup.records()] == ["shown"]


def test_basic_config_without_force_configures_the_root_logger(log_setup: Logs) -> None:
    """A plain basicConfig() works as without the distro (our handler does not count as
    the root logger being configured already)."""
    root = logging.getLogger()

    def scenario() -> tuple[str, int]:
        root.handlers[:] = [
            h for h in root.handlers if isinstance(h, otel_logs._stdlib.RootHandler)
        ]
        stream = io.StringIO()
        logging.basicConfig(level=logging.INFO, stream=stream, format="%(levelname)s|%(message)s")
        logging.getLogger("app").info("hello")
        return stream.getvalue(), root.level

    expected = without_distro(log_setup, scenario)
    assert scenario() == expected == ("INFO|hello\n", logging.INFO)
    assert [r.log_record.body for r in log_setup.records()] == ["hello"]


def test_log_level_is_a_default_not_an_override(setup_logs: Callable[..., Logs]) -> None:
    """LOG_LEVEL=DEBUG does not lower a root level the app set in dictConfig, also after
    logging is configured again."""
    setup_logs(LOG_LEVEL="DEBUG")
    logging.config.dictConfig(dict_config(io.StringIO(), level="WARNING"))
    assert logging.getLogger().level == logging.WARNING
    otel_logs.configure(make_settings(LOG_LEVEL="DEBUG"))
    assert logging.getLogger().level == logging.WARNING


def test_log_level_applies_while_the_app_set_none(setup_logs: Callable[..., Logs]) -> None:
    """Without a level of the app's, LOG_LEVEL is the root level."""
    setup_logs(LOG_LEVEL="DEBUG")
    assert logging.getLogger().level == logging.DEBUG


def test_app_file_handler_on_root_writes_redacted(log_setup: Logs, tmp_path: Any) -> None:
    """A RotatingFileHandler the app puts on the root logger writes the redacted message
    and traceback; the exported record is redacted too."""
    import logging.handlers

    secret = plant()
    path = tmp_path / "app.log"
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20)
    logging.getLogger().addHandler(handler)
    try:
        raise RuntimeError(f"connect failed password={secret}")
    except RuntimeError:
        logging.getLogger("db").exception("query token=%s failed", secret)
    handler.close()
    text = path.read_text()
    assert "query token=" in text and "RuntimeError: connect failed password=" in text
    assert secret not in text
    (record,) = log_setup.records()
    assert secret not in str(record.log_record.body)
    assert secret not in str(dict(record.log_record.attributes or {}))


def test_library_stream_handler_on_a_named_logger_is_redacted(log_setup: Logs) -> None:
    """A library's own StreamHandler on a non-root logger prints the redacted record."""
    secret = plant()
    stream = io.StringIO()
    library = logging.getLogger("somelib")
    handler = logging.StreamHandler(stream)
    library.addHandler(handler)
    try:
        library.warning("retrying with api_key=%s", secret)
    finally:
        library.removeHandler(handler)
    assert "retrying with api_key=" in stream.getvalue()
    assert secret not in stream.getvalue()


def test_app_dict_tracebacks_stay_structured(log_setup: Logs) -> None:
    """An app chain with dict_tracebacks renders the exception as structured frames, as
    without the distro; the secret in the message is redacted; the record has exception.*."""
    import json

    secret = plant()

    def scenario() -> dict[str, Any]:
        stream = io.StringIO()
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.dict_tracebacks,
                structlog.processors.JSONRenderer(),
            ],
            logger_factory=structlog.PrintLoggerFactory(stream),
            cache_logger_on_first_use=False,
        )
        try:
            raise ValueError(f"bad password={secret}")
        except ValueError:
            structlog.get_logger("app").exception("failed")
        structlog.reset_defaults()
        return dict(json.loads(stream.getvalue()))

    expected = without_distro(log_setup, scenario)
    assert expected["exception"][0]["exc_value"] == f"bad password={secret}"
    line = scenario()
    assert isinstance(line["exception"], list) and isinstance(line["exception"][0], dict)
    assert line["exception"][0]["exc_type"] == expected["exception"][0]["exc_type"]
    assert line["exception"][0]["exc_value"] == f"bad password={REDACTED}"
    assert sorted(line) == sorted(expected)
    attributes = log_setup.attributes()
    assert attributes["exception.type"] == "ValueError"
    assert secret not in str(attributes)
