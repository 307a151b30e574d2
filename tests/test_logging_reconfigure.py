"""Applications that call structlog.configure() themselves keep correlation and OTel emission."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import structlog
from opentelemetry.sdk.trace import TracerProvider

from otel_distro.logging import get_logger
from otel_distro.logs._structlog import BridgeProcessor
from tests.test_logging_support import Logs, clean_logging_state, log_setup, setup_logs

__all__ = ["clean_logging_state", "log_setup", "setup_logs"]


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


def test_bridge_is_inserted_before_the_renderer(log_setup: Logs) -> None:
    """The bridge goes just before the app's last processor."""
    _app_chain(io.StringIO())
    processors = structlog.get_config()["processors"]
    assert isinstance(processors[-2], BridgeProcessor)


def test_configure_once_also_gets_the_bridge(log_setup: Logs) -> None:
    """structlog.configure_once() is covered too."""
    structlog.reset_defaults()
    structlog._config._CONFIG.is_configured = False
    structlog.configure_once(processors=[structlog.processors.JSONRenderer()],
                             logger_factory=structlog.PrintLoggerFactory(io.StringIO()))
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
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
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


def test_configure_without_processors_keeps_our_chain(log_setup: Logs) -> None:
    """structlog.configure(cache_logger_on_first_use=...) alone leaves our chain in place."""
    structlog.configure(cache_logger_on_first_use=False)
    get_logger("app").info("still_ours")
    assert [r.log_record.body for r in log_setup.records()] == ["still_ours"]
    assert logging.getLogger().handlers
