"""Applications that call structlog.configure() themselves keep correlation and OTel emission,
and structlog keeps its meaning: no processor of ours in the chain the application set."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from otel_distro.logging import get_logger
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


def _app_chain(stream: io.StringIO) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream),
    )


def test_app_chain_still_emits_once(log_setup: Logs) -> None:
    """After the app's own structlog.configure(), each call is still one OTel record."""
    _app_chain(io.StringIO())
    structlog.get_logger("app").info("after_reconfigure", n=1)
    assert [r.log_record.body for r in log_setup.records()] == ["after_reconfigure"]


def test_app_renderer_lines_keep_trace_ids(log_setup: Logs) -> None:
    """The app's own renderer output gains trace_id and span_id."""
    stream = io.StringIO()
    _app_chain(stream)
    with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
        structlog.get_logger("app").info("correlated")
    line = json.loads(stream.getvalue())
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_app_renderer_lines_are_redacted(log_setup: Logs) -> None:
    """The app's renderer sees redacted values."""
    stream = io.StringIO()
    _app_chain(stream)
    structlog.get_logger("app").info("login", password="hunter2")
    assert "hunter2" not in stream.getvalue()


def test_get_config_returns_the_apps_chain_unchanged(log_setup: Logs) -> None:
    """get_config() returns the very processors the app set, with nothing of ours in them."""
    processors = [structlog.processors.add_log_level, structlog.processors.JSONRenderer()]
    structlog.configure(processors=processors)
    assert structlog.get_config()["processors"] is processors
    assert processors == [structlog.processors.add_log_level, processors[-1]]


def test_configure_once_also_gets_the_bridge(log_setup: Logs) -> None:
    """structlog.configure_once() is covered too."""
    structlog.reset_defaults()
    structlog._config._CONFIG.is_configured = False
    structlog.configure_once(
        processors=[structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(io.StringIO()),
    )
    structlog.get_logger().info("once")
    assert [r.log_record.body for r in log_setup.records()] == ["once"]


def test_contrib_structlog_handler_is_removed(log_setup: Logs) -> None:
    """A contrib StructlogHandler in the app's chain is dropped, so no duplicate record."""
    calls: list[Any] = []

    def handler_call(self: Any, logger: Any, name: str, event_dict: Any) -> Any:
        calls.append(event_dict)
        return event_dict

    contrib = type(
        "StructlogHandler",
        (),
        {"__call__": handler_call, "__module__": "opentelemetry.instrumentation.structlog"},
    )
    structlog.configure(
        processors=[contrib(), structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(io.StringIO()),
    )
    structlog.get_logger().info("e")
    assert calls == [] and len(log_setup.records()) == 1


def test_app_chain_into_stdlib_emits_once(log_setup: Logs) -> None:
    """A chain ending in standard-library logging still gives exactly one record."""
    _configure_chain_into_stdlib()
    structlog.get_logger("app.stdlib").info("via_stdlib", n=2)
    records = log_setup.records()
    assert [r.log_record.body for r in records] == ["via_stdlib"]
    assert (records[0].log_record.attributes or {})["n"] == 2


def test_loggers_cached_before_reconfigure_keep_working(log_setup: Logs) -> None:
    """A module-level logger used before the app reconfigures still emits once."""
    early = get_logger("early")
    early.info("first")
    _app_chain(io.StringIO())
    early.info("second")
    assert [r.log_record.body for r in log_setup.records()] == ["first", "second"]


def test_configure_without_processors_starts_from_structlogs_defaults(log_setup: Logs) -> None:
    """structlog.configure(cache_logger_on_first_use=...) alone: what the app did not pass
    is structlog's default (as without the distro), still bridged and exported once."""
    structlog.configure(cache_logger_on_first_use=False)
    defaults = structlog._config._BUILTIN_DEFAULT_PROCESSORS
    assert [type(p) for p in structlog.get_config()["processors"]] == [type(p) for p in defaults]
    get_logger("app").info("bridged")
    assert [r.log_record.body for r in log_setup.records()] == ["bridged"]
    assert logging.getLogger().handlers


def test_app_renderer_without_a_logger_factory_is_written(
    log_setup: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    """configure(processors=[..., JSONRenderer()]) alone: the app's line reaches stdout once."""
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()]
    )
    with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
        structlog.get_logger("app").info("rendered_by_app", password="hunter2")
    assert [r.log_record.body for r in log_setup.records()] == ["rendered_by_app"]
    lines = [json.loads(line) for line in log_setup.lines()]
    assert len(lines) == 1, lines
    assert lines[0]["event"] == "rendered_by_app" and lines[0]["password"] == "REDACTED"
    assert lines[0]["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_app_console_renderer_without_a_logger_factory_is_written(log_setup: Logs) -> None:
    """The same for the app's ConsoleRenderer (a str line)."""
    structlog.configure(processors=[structlog.dev.ConsoleRenderer(colors=False)])
    structlog.get_logger("app").warning("console_by_app", n=3)
    lines = log_setup.lines()
    assert len(lines) == 1 and "console_by_app" in lines[0] and "n=3" in lines[0], lines
    assert len(log_setup.records()) == 1


def test_exception_formatter_in_the_app_chain_keeps_exception_attributes(
    log_setup: Logs,
) -> None:
    """format_exc_info before the renderer: the record still has redacted exception.*."""
    stream = io.StringIO()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream),
    )
    try:
        raise RuntimeError("connect failed password=hunter2")
    except RuntimeError:
        structlog.get_logger("app").exception("db_failed")
    attributes = log_setup.attributes()
    assert attributes["exception.type"] == "RuntimeError"
    assert attributes["exception.message"] == "connect failed password=REDACTED"
    assert "RuntimeError: connect failed password=REDACTED" in attributes["exception.stacktrace"]
    line = json.loads(stream.getvalue())
    assert "RuntimeError" in line["exception"] and "hunter2" not in stream.getvalue()


def test_chain_into_stdlib_emits_when_root_handlers_were_replaced(
    log_setup: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    """root.handlers = [...] bypasses dictConfig: structlog events still emit once, and a
    message says standard-library records no longer reach OpenTelemetry."""
    structlog.configure(
        processors=[structlog.stdlib.add_log_level, structlog.processors.JSONRenderer()],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    root = logging.getLogger()
    root.handlers = [logging.StreamHandler(io.StringIO())]
    structlog.get_logger("app.stdlib").info("after_replacement")
    assert [r.log_record.body for r in log_setup.records()] == ["after_replacement"]
    assert "root logger's handlers were replaced" in capsys.readouterr().err


def test_reset_defaults_returns_structlogs_defaults(log_setup: Logs) -> None:
    """structlog.reset_defaults() gives structlog's own defaults; events are still
    exported once and redacted."""
    structlog.reset_defaults()
    assert structlog.get_config()["processors"] == structlog._config._BUILTIN_DEFAULT_PROCESSORS
    assert not structlog.is_configured()
    structlog.get_logger("app").info("after_reset", password="hunter2")
    assert [r.log_record.body for r in log_setup.records()] == ["after_reset"]
    assert log_setup.attributes()["password"] == "REDACTED"
    printed = log_setup.capsys.readouterr().out
    assert "after_reset" in printed and "hunter2" not in printed


def test_stack_info_in_the_app_chain(log_setup: Logs) -> None:
    """``stack_info=True`` through the bridge: ``code.stacktrace`` on the record, and the
    application's chain gets the event as it would without the distro."""
    stream = io.StringIO()
    _app_chain(stream)
    structlog.get_logger("app").info("here", stack_info=True)
    stack = log_setup.attributes()["code.stacktrace"]
    assert "in test_stack_info_in_the_app_chain" in stack.rstrip().rsplit("\n  File ", 1)[-1]
    line = json.loads(stream.getvalue())
    assert line["stack_info"] is True and "code.stacktrace" not in line


def test_stack_info_in_a_chain_into_stdlib(log_setup: Logs) -> None:
    """The same for a chain ending in standard-library logging (the root handler emits)."""
    _configure_chain_into_stdlib()
    structlog.get_logger("app.stdlib").info("via_stdlib", stack_info=True)
    (record,) = log_setup.records()
    attributes = dict(record.log_record.attributes or {})
    assert "stack_info" not in attributes
    stack = attributes["code.stacktrace"]
    assert "in test_stack_info_in_a_chain_into_stdlib" in stack.rstrip().rsplit("\n  File ", 1)[-1]


def _configure_chain_into_stdlib() -> None:
    """An application chain that hands events to standard-library logging."""
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
