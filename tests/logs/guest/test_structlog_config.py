"""The application's own logging configuration wins (structlog): each scenario behaves as without
the distro (the same scenario is run without it first), while records are still exported and
planted secrets are redacted in every output."""

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
    without_distro,
)
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


def test_structlog_get_config_is_what_the_app_set(log_setup: Logs) -> None:
    """configure() then get_config() gives what the app set, and structlog's defaults for
    the rest, as without the distro."""

    def scenario() -> dict[str, Any]:
        processors = [structlog.processors.JSONRenderer()]
        factory = structlog.PrintLoggerFactory(io.StringIO())
        structlog.configure(processors=processors, logger_factory=factory)
        config = structlog.get_config()
        assert config["processors"] is processors and config["logger_factory"] is factory
        shape = {key: type(value) for key, value in config.items() if key != "wrapper_class"}
        wrapper = config["wrapper_class"]
        return {**shape, "wrapper": wrapper.__name__, "configured": structlog.is_configured()}

    expected = without_distro(log_setup, scenario)
    structlog.reset_defaults()
    assert scenario() == expected


def test_reset_defaults_is_structlogs(log_setup: Logs) -> None:
    """reset_defaults() returns structlog's own defaults, not the distro's chain."""
    structlog.configure(processors=[structlog.processors.JSONRenderer()])
    structlog.reset_defaults()
    config = structlog.get_config()
    defaults = structlog._config._BUILTIN_DEFAULT_PROCESSORS
    assert [type(p) for p in config["processors"]] == [type(p) for p in defaults]


def test_wrap_logger_to_a_file_is_redacted_and_exported(log_setup: Logs, tmp_path: Any) -> None:
    """A structlog wrap_logger(...) logger writing to a file writes redacted values and
    its events are exported once."""
    secret = plant()
    path = tmp_path / "events.log"
    with path.open("w") as file:
        log = structlog.wrap_logger(
            structlog.PrintLogger(file), processors=[structlog.processors.JSONRenderer()]
        )
        log.info("signup", password=secret, user="ann")
    text = path.read_text()
    assert '"user": "ann"' in text and secret not in text
    assert [r.log_record.body for r in log_setup.records()] == ["signup"]


def test_log_stream_stderr_moves_the_distro_lines(
    setup_logs: Callable[..., Logs], capsys: pytest.CaptureFixture[str]
) -> None:
    """OTEL_DISTRO_LOG_STREAM=stderr: the distro's own lines go to stderr, none to stdout."""
    setup_logs(OTEL_DISTRO_LOG_STREAM="stderr")
    otel_logs.get_logger("app").info("to_stderr")
    logging.getLogger("lib").warning("lib_to_stderr")
    otel_logs.flush()
    out, err = capsys.readouterr()
    assert out == ""
    assert "to_stderr" in err and "lib_to_stderr" in err


def test_distro_records_get_no_line_once_the_app_configured_root(log_setup: Logs) -> None:
    """With the app's own root handler, an external_http_call record is exported but
    written neither by the distro nor into the app's handler."""
    from otel_distro.http._hooks import EVENT, _emit

    stream = io.StringIO()
    logging.config.dictConfig(dict_config(stream))
    _emit("info", EVENT, {"url.full": "http://example.test/x"})
    assert [r.log_record.body for r in log_setup.records()] == [EVENT]
    assert log_setup.lines() == [] and stream.getvalue() == ""


def test_app_structlog_lines_are_as_without_the_distro(log_setup: Logs) -> None:
    """Outside a span, the app's own chain renders the same line as without the distro
    (values of any type handed on unchanged), the secret redacted; exported once."""
    import datetime as dt

    secret = plant()
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)

    def scenario() -> str:
        stream = io.StringIO()
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.KeyValueRenderer(sort_keys=True),
            ],
            logger_factory=structlog.PrintLoggerFactory(stream),
            cache_logger_on_first_use=False,
        )
        structlog.get_logger("app").warning(
            "paid", amount=3.5, when=when, items=[1, "a"], password=secret
        )
        structlog.reset_defaults()
        return stream.getvalue()

    expected = without_distro(log_setup, scenario)
    assert secret in expected
    assert scenario() == expected.replace(f"'{secret}'", f"'{REDACTED}'")
    assert [r.log_record.body for r in log_setup.records()] == ["paid"]


def test_app_console_renderer_prints_the_redacted_traceback(log_setup: Logs) -> None:
    """A ConsoleRenderer (which formats exc_info itself) prints the redacted traceback."""
    secret = plant()
    stream = io.StringIO()
    structlog.configure(
        processors=[structlog.dev.ConsoleRenderer(colors=False)],
        logger_factory=structlog.PrintLoggerFactory(stream),
    )
    try:
        raise OSError(f"mount failed password={secret}")
    except OSError:
        structlog.get_logger("app").exception("mount")
    assert "OSError: mount failed password=" in stream.getvalue()
    assert secret not in stream.getvalue()


def test_processor_formatter_setup_renders_as_without_the_distro(log_setup: Logs) -> None:
    """structlog into stdlib with a ProcessorFormatter handler from dictConfig (the usual
    production setup): the app's JSON line has the same keys as without the distro, the
    exception formatted by its own processors, the secret redacted; exported once."""
    import json

    secret = plant()

    def scenario() -> dict[str, Any]:
        stream = io.StringIO()
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {
                    "json": {
                        "()": structlog.stdlib.ProcessorFormatter,
                        "processors": [
                            structlog.processors.format_exc_info,
                            structlog.processors.JSONRenderer(sort_keys=True),
                        ],
                    }
                },
                "handlers": {
                    "out": {"class": "logging.StreamHandler", "stream": stream, "formatter": "json"}
                },
                "root": {"handlers": ["out"], "level": "INFO"},
            }
        )
        structlog.configure(
            processors=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=False,
        )
        try:
            raise LookupError("no row")
        except LookupError:
            structlog.get_logger("app").exception("lookup", password=secret, row=7)
        structlog.reset_defaults()
        return dict(json.loads(stream.getvalue()))

    expected = without_distro(log_setup, scenario)
    line = scenario()
    assert sorted(line) == sorted(expected)
    assert line["password"] == REDACTED and line["row"] == 7
    assert "LookupError: no row" in line["exception"]
    assert [r.log_record.body for r in log_setup.records()] == ["lookup"]


def test_capture_logs_in_app_tests_sees_raw_events(log_setup: Logs) -> None:
    """structlog.testing.capture_logs() (an application's own tests) captures the events
    as without the distro: the chain runs unchanged."""
    from structlog.testing import capture_logs

    with capture_logs() as captured:
        structlog.get_logger("app").info("charged", token="t-1", amount=3)
    assert captured == [{"event": "charged", "token": "t-1", "amount": 3, "log_level": "info"}]
