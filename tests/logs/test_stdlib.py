"""Standard-library logging: same format, exactly one OTel record, no duplicate bridges."""

from __future__ import annotations

import logging
import logging.config
import warnings
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.sdk._logs import LoggingHandler
from opentelemetry.sdk.trace import TracerProvider

from otel_distro.logging import get_logger, should_skip_instrumentor
from otel_distro.processors.access_log import AccessLogSpanProcessor
from tests.support.logs import Logs, make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")


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


@pytest.fixture
def contrib_logging(
    log_setup: Logs, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoggingInstrumentor]:
    """The contrib logging instrumentor, as an application would call it after configure();
    its handler emits into the test's provider (it would duplicate there)."""
    import opentelemetry.instrumentation.logging as contrib

    for name in ("dictConfig", "fileConfig"):  # the contrib wraps these for good
        monkeypatch.setattr(logging.config, name, getattr(logging.config, name))
    monkeypatch.setattr(logging, "basicConfig", logging.basicConfig)
    monkeypatch.setattr(contrib, "get_logger_provider", lambda: log_setup.provider)
    factory = logging.getLogRecordFactory()
    instrumentor = contrib.LoggingInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    logging.setLogRecordFactory(factory)


_FACTORY_FIELDS = ("otelSpanID", "otelTraceID", "otelTraceSampled", "otelServiceName")


def test_contrib_logging_instrumentation_called_by_the_app_does_not_duplicate(
    log_setup: Logs, contrib_logging: LoggingInstrumentor
) -> None:
    """LoggingInstrumentor().instrument(set_logging_format=True) after configure(): its
    handler is removed, each record is still exported once, without its factory fields."""
    contrib_logging.instrument(set_logging_format=True)
    logging.getLogger("y").info("x")
    assert [r.log_record.body for r in log_setup.records()] == ["x"]
    assert not set(_FACTORY_FIELDS) & set(log_setup.attributes())
    assert not set(_FACTORY_FIELDS) & set(log_setup.json_lines()[-1])
    assert LoggingInstrumentor._logging_handler not in logging.getLogger().handlers


def test_contrib_logging_instrumentation_stays_removed_after_dict_config(
    log_setup: Logs, contrib_logging: LoggingInstrumentor
) -> None:
    """The contrib's own dictConfig wrapper does not bring its handler back."""
    contrib_logging.instrument(inject_trace_context=True)
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    logging.basicConfig(force=True)
    with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
        logging.getLogger("y").warning("x")
    (record,) = log_setup.records()
    assert record.log_record.trace_id == span.get_span_context().trace_id
    assert not set(_FACTORY_FIELDS) & set(record.log_record.attributes or {})


def test_contrib_logging_uninstrument_still_works(
    log_setup: Logs, contrib_logging: LoggingInstrumentor
) -> None:
    """uninstrument() restores the record factory; instrumenting again still gives one record."""
    factory = logging.getLogRecordFactory()
    contrib_logging.instrument(inject_trace_context=True)
    assert logging.getLogRecordFactory() is not factory
    contrib_logging.uninstrument()
    assert logging.getLogRecordFactory() is factory
    assert LoggingInstrumentor._logging_handler is None
    assert not contrib_logging.is_instrumented_by_opentelemetry
    contrib_logging.instrument()
    logging.getLogger("y").info("again")
    assert [r.log_record.body for r in log_setup.records()] == ["again"]


@pytest.fixture
def other_handlers_do_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest's capture handler re-raises formatting errors; stdlib handlers only report them."""
    monkeypatch.setattr(logging, "raiseExceptions", False)


class _Unprintable:
    def __str__(self) -> str:
        raise ValueError("no str")


def test_unprintable_message_is_still_logged(
    log_setup: Logs, other_handlers_do_not_raise: None
) -> None:
    """A message whose str() raises gives a placeholder, not a lost record and line."""
    logging.getLogger("y").info(_Unprintable())
    assert [r.log_record.body for r in log_setup.records()] == ["<unprintable _Unprintable>"]
    assert log_setup.json_lines()[-1]["event"] == "<unprintable _Unprintable>"


def test_unprintable_argument_keeps_the_rest_of_the_message(
    log_setup: Logs, other_handlers_do_not_raise: None
) -> None:
    """An argument whose str() raises is replaced in its place."""
    logging.getLogger("y").info("value %s of %s", _Unprintable(), "n")
    assert log_setup.records()[-1].log_record.body == "value <unprintable _Unprintable> of n"


def test_mapping_arguments_are_redacted_by_key(log_setup: Logs) -> None:
    """``%(password)s`` from a mapping argument: the value is redacted under its key before
    it is formatted into the message, for both outputs."""
    logging.getLogger("y").info(
        "login %(user)s %(password)s", {"user": "bob", "password": "hunter2-secret"}
    )
    record = log_setup.records()[-1].log_record
    assert record.body == "login bob REDACTED"
    assert "user" not in (record.attributes or {})  # arguments are not attributes
    assert log_setup.json_lines()[-1]["event"] == "login bob REDACTED"
    assert not any("hunter2" in line for line in log_setup.lines())


def test_mapping_arguments_keep_their_formatting(log_setup: Logs) -> None:
    """Values the redactor leaves alone are formatted as the standard library would."""

    class Item:
        def __repr__(self) -> str:
            return "<Item 7>"

    args = {"n": 3, "ratio": 0.25, "item": Item(), "name": "bob"}
    message = "%(n)03d %(ratio).1f %(item)r %(name)r"
    logging.getLogger("y").info(message, args)
    assert log_setup.records()[-1].log_record.body == message % args


def test_a_whole_mapping_argument_is_redacted(log_setup: Logs) -> None:
    """``info("%s", mapping)`` prints the mapping with its secret values redacted."""
    logging.getLogger("y").info("payload %s", {"token": "abc123", "id": 1})
    assert log_setup.records()[-1].log_record.body == "payload {'token': 'REDACTED', 'id': 1}"


def test_a_one_tuple_mapping_argument_is_the_mapping(
    log_setup: Logs, other_handlers_do_not_raise: None
) -> None:
    """A record whose args is a 1-tuple holding a mapping (makeLogRecord, a filter) is
    formatted with the mapping, as LogRecord() itself does, and redacted."""
    record = logging.makeLogRecord(
        {
            "name": "y",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "login %(user)s %(password)s",
            "args": ({"user": "bob", "password": "hunter2-secret"},),
        }
    )
    logging.getLogger("y").handle(record)
    assert log_setup.records()[-1].log_record.body == "login bob REDACTED"
    record.msg = "login %s"
    logging.getLogger("y").handle(record)
    assert "hunter2" not in log_setup.records()[-1].log_record.body


def test_mapping_arguments_that_do_not_format_are_redacted(
    log_setup: Logs, other_handlers_do_not_raise: None
) -> None:
    """A format that does not fit its mapping prints the redacted mapping, never raises."""
    logging.getLogger("y").info("%(missing)s %(password)s", {"password": "hunter2-secret"})
    body = log_setup.records()[-1].log_record.body
    assert "hunter2" not in body and "REDACTED" in body


def test_stdlib_stack_info_is_a_redacted_code_stacktrace(log_setup: Logs) -> None:
    """``stack_info=True``: the call stack is the ``code.stacktrace`` attribute (the
    semantic-convention name), redacted, in the record and the line."""
    logging.getLogger("y").info("here", stack_info=True)  # password=hunter2
    stack = log_setup.attributes()["code.stacktrace"]
    assert stack.startswith("Stack (most recent call last):")
    assert "test_stdlib_stack_info_is_a_redacted_code_stacktrace" in stack
    assert "hunter2" not in stack and "password=REDACTED" in stack
    assert log_setup.json_lines()[-1]["code.stacktrace"] == stack
    assert "stack_info" not in log_setup.attributes()


def test_stdlib_stack_info_is_bounded_and_keeps_the_innermost_frames(
    setup_logs: Callable[..., Logs],
) -> None:
    """A long stack is cut like an exception's stack trace: the innermost frames stay."""
    result = setup_logs(OTEL_DISTRO_REDACT_MAX_SCAN="256")
    logging.getLogger("y").info("deep", stack_info=True)
    stack = result.attributes()["code.stacktrace"]
    assert len(stack) <= 256 + len("...[truncated]")
    assert stack.rstrip().endswith('logging.getLogger("y").info("deep", stack_info=True)')
