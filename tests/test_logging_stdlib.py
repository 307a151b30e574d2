"""Standard-library logging: same format, exactly one OTel record, no duplicate bridges."""

from __future__ import annotations

import logging
import logging.config
import warnings
from collections.abc import Callable

from opentelemetry.sdk._logs import LoggingHandler

from otel_distro.access_log import AccessLogSpanProcessor
from otel_distro.logging import get_logger, should_skip_instrumentor
from tests.test_logging_support import (
    Logs,
    clean_logging_state,
    log_setup,
    make_settings,
    setup_logs,
)

__all__ = ["clean_logging_state", "log_setup", "setup_logs"]


def test_stdlib_record_is_emitted_once(log_setup: Logs) -> None:
    """A logging.getLogger(...) call produces one OTel record with the formatted message."""
    logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", "/x")
    assert [r.log_record.body for r in log_setup.records()] == ["HTTP Request: GET /x"]


def test_stdlib_record_is_rendered_in_the_same_format(log_setup: Logs) -> None:
    """A stdlib record becomes a JSON line with level, logger and event like structlog's."""
    logging.getLogger("aio_pika").warning("reconnecting")
    line = log_setup.json_lines()[-1]
    assert (line["level"], line["logger"], line["event"]) == ("warning", "aio_pika", "reconnecting")


def test_stdlib_extra_fields_are_attributes(log_setup: Logs) -> None:
    """``extra=`` values become record attributes."""
    logging.getLogger("lib").info("m", extra={"queue": "jobs", "attempt": 2})
    attrs = log_setup.attributes()
    assert (attrs["queue"], attrs["attempt"]) == ("jobs", 2)


def test_stdlib_exc_info_gives_exception_attributes(log_setup: Logs) -> None:
    """logger.exception() records exception.* attributes."""
    try:
        raise OSError("disk")
    except OSError:
        logging.getLogger("lib").exception("write_failed")
    attrs = log_setup.attributes()
    assert attrs["exception.type"] == "OSError" and attrs["exception.message"] == "disk"


def test_stdlib_levels_below_log_level_are_dropped(log_setup: Logs) -> None:
    """Root level follows LOG_LEVEL: a stdlib debug record produces nothing."""
    logging.getLogger("lib").debug("noise")
    assert log_setup.records() == [] and log_setup.lines() == []


def test_log_level_applies_to_loggers_with_their_own_level(
    setup_logs: Callable[..., Logs],
) -> None:
    """LOG_LEVEL=WARNING drops INFO from loggers set to INFO themselves (uvicorn's are)."""
    result = setup_logs(LOG_LEVEL="WARNING")
    uvicorn_config = __import__("uvicorn.config", fromlist=["LOGGING_CONFIG"])
    logging.config.dictConfig(uvicorn_config.LOGGING_CONFIG)
    assert logging.getLogger("uvicorn.error").getEffectiveLevel() == logging.INFO
    logging.getLogger("uvicorn.error").info("Started server process")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    assert [r.log_record.body for r in result.records()] == ["Invalid HTTP request received."]
    assert [line["event"] for line in result.json_lines()] == ["Invalid HTTP request received."]


def test_sdk_logging_handler_is_removed(setup_logs: object) -> None:
    """The SDK's LoggingHandler (auto-instrumentation env var) on root does not duplicate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        logging.getLogger().addHandler(LoggingHandler())
    result = setup_logs()  # type: ignore[operator]
    logging.getLogger("lib").warning("once")
    assert [r.log_record.body for r in result.records()] == ["once"]
    assert not any(isinstance(h, LoggingHandler) for h in logging.getLogger().handlers)


def test_otel_handler_added_by_a_later_dict_config_is_removed(log_setup: Logs) -> None:
    """An OTel handler put on root by a later dictConfig is removed again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"otel": {"()": lambda: handler}},
            "root": {"handlers": ["otel"], "level": "INFO"},
        }
    )
    logging.getLogger("lib").warning("once")
    assert len(log_setup.records()) == 1


def test_uvicorn_logging_config_flows_through_ours(log_setup: Logs) -> None:
    """After uvicorn's dictConfig its error logger still reaches OTel once, in our format."""
    uvicorn_config = __import__("uvicorn.config", fromlist=["LOGGING_CONFIG"])
    logging.config.dictConfig(uvicorn_config.LOGGING_CONFIG)
    logging.getLogger("uvicorn.error").info("Started server process")
    assert [r.log_record.body for r in log_setup.records()] == ["Started server process"]
    assert log_setup.json_lines()[-1]["logger"] == "uvicorn.error"


def test_uvicorn_access_log_is_dropped_when_ours_is_on(log_setup: Logs) -> None:
    """uvicorn.access lines are dropped: the access-log processor writes one per request."""
    AccessLogSpanProcessor(make_settings())
    uvicorn_config = __import__("uvicorn.config", fromlist=["LOGGING_CONFIG"])
    logging.config.dictConfig(uvicorn_config.LOGGING_CONFIG)
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET / HTTP/1.1" 200')
    assert log_setup.records() == [] and log_setup.lines() == []


def test_uvicorn_access_log_flows_without_ours(log_setup: Logs) -> None:
    """Without the access-log processor (no tracing), uvicorn.access lines flow through ours."""
    uvicorn_config = __import__("uvicorn.config", fromlist=["LOGGING_CONFIG"])
    logging.config.dictConfig(uvicorn_config.LOGGING_CONFIG)
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET / HTTP/1.1" 200')
    assert len(log_setup.records()) == 1


def test_basic_config_force_keeps_our_handler(log_setup: Logs) -> None:
    """logging.basicConfig(force=True) from the app does not disconnect the bridge."""
    logging.basicConfig(force=True, level=logging.INFO)
    logging.getLogger("lib").warning("kept")
    assert [r.log_record.body for r in log_setup.records()] == ["kept"]


def test_opentelemetry_internal_loggers_are_not_emitted(log_setup: Logs) -> None:
    """The SDK's own warnings are rendered but never fed back into the export pipeline."""
    logging.getLogger("opentelemetry.sdk._logs").warning("export failed")
    assert log_setup.records() == []
    assert log_setup.json_lines()[-1]["event"] == "export failed"


def test_structlog_and_stdlib_share_one_pipeline(log_setup: Logs) -> None:
    """Mixed structlog and stdlib calls give one record per call, in order."""
    get_logger("app").info("a")
    logging.getLogger("lib").info("b")
    get_logger("app").info("c")
    assert [r.log_record.body for r in log_setup.records()] == ["a", "b", "c"]


def test_contrib_logging_and_structlog_instrumentors_are_skipped() -> None:
    """The distro must not load the contrib logging/structlog instrumentors."""
    assert should_skip_instrumentor("logging") and should_skip_instrumentor("structlog")


def test_other_instrumentors_are_not_skipped() -> None:
    """Unrelated instrumentors load normally."""
    assert not should_skip_instrumentor("httpx")


def test_uvicorn_color_message_is_not_an_attribute(log_setup: Logs) -> None:
    """uvicorn's ANSI ``color_message`` duplicate is not copied onto the record."""
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[36mStarted"})
    assert "color_message" not in log_setup.attributes()
