"""Call sites with the distro loaded: structlog's ``CallsiteParameterAdder`` and logging's
own ``%(funcName)s``/``%(lineno)d``/... name the application's line, never the distro's.

The distro's wrappers (``BoundLoggerBase._process_event``, ``Logger.handle``) stay on the
stack while the application's processors, handlers and formatters run; each test logs
from a known line and compares every parameter with that line's, through structlog's own
loggers, structlog over standard-library logging (``ProcessorFormatter``, the adder in the
chain, in the formatter or both), standard-library records (``foreign_pre_chain``), and a
host application's own ``logging.Formatter``; with ``stacklevel`` and ``exception()``.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from structlog.processors import CallsiteParameterAdder
from structlog.stdlib import ProcessorFormatter

from otel_distro.logging._frames import in_frames_of
from tests.support.callsite import HOST_FIELDS, PARAMETERS, site
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")

FRAME_KEYS = {"pathname", "filename", "module", "qual_module", "func_name", "qual_name", "lineno"}


def adder() -> CallsiteParameterAdder:
    return CallsiteParameterAdder(parameters=PARAMETERS)


def params(line: str, keys: Any = None) -> dict[str, Any]:
    data = json.loads(line)
    return {k: data[k] for k in (keys or {p.value for p in PARAMETERS}) if k in data}


def frame_part(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in FRAME_KEYS}


def exported(logs: Logs) -> list[Any]:
    return [r.log_record.body for r in logs.records()]


@pytest.fixture
def logger_class() -> Iterator[None]:
    """structlog's ``LoggerFactory`` sets logging's logger class: restored afterwards."""
    kind = logging.getLoggerClass()
    yield
    logging.setLoggerClass(kind)


def test_structlog_native_logger(log_setup: Logs) -> None:
    """A structlog-native chain: info, a bound warning, exception() and stack_info."""
    out = io.StringIO()
    structlog.configure(
        processors=[adder(), structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(out),
    )
    log = structlog.get_logger()
    expected = [site()]
    log.info("native")
    expected.append(site())
    log.bind(part=1).warning("bound")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        expected.append(site())
        log.exception("failed")
    expected.append(site())
    log.info("with stack", stack_info=True)
    lines = out.getvalue().splitlines()
    assert [params(line) for line in lines] == expected
    assert exported(log_setup) == ["native", "bound", "failed", "with stack"]


def test_structlog_async_methods(log_setup: Logs) -> None:
    """``await log.ainfo(...)`` (run in an executor): the awaiting line."""
    out = io.StringIO()
    structlog.configure(
        processors=[adder(), structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(out),
    )
    log = structlog.get_logger()

    async def handler() -> dict[str, Any]:
        expected = site()
        await log.ainfo("async")
        return expected

    expected = asyncio.run(handler())
    assert frame_part(params(out.getvalue())) == frame_part(expected)
    assert exported(log_setup) == ["async"]


def stdlib_handler(name: str, formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    """The application's logger *name* with its own handler, writing to a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger, out


@pytest.mark.parametrize("where", ["chain", "formatter", "both"])
def test_structlog_through_processor_formatter(
    log_setup: Logs, logger_class: None, where: str
) -> None:
    """structlog over logging, rendered by ``ProcessorFormatter`` on the app's handler: the
    adder in the structlog chain (runs under ``_process_event``), in the formatter (runs
    under ``Logger.handle``: the frames are found again, from the handler) or both."""
    chain = [adder()] if where != "formatter" else []
    last = [adder()] if where != "chain" else []
    formatter = ProcessorFormatter(
        processors=[
            *last,
            ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ]
    )
    name = f"app.callsite.{where}"
    _, out = stdlib_handler(name, formatter)
    structlog.configure(
        processors=[*chain, ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    log = structlog.get_logger(name)
    expected = [site()]
    log.info("through stdlib")
    try:
        raise ValueError("bad")
    except ValueError:
        expected.append(site())
        log.exception("failed")
    assert [params(line) for line in out.getvalue().splitlines()] == expected
    assert exported(log_setup) == ["through stdlib", "failed"]


def log_for_caller(logger: logging.Logger, message: str) -> None:
    """A logging helper of the application: the record names the helper's caller."""
    logger.info(message, stacklevel=2)


def test_stdlib_records_through_foreign_pre_chain(log_setup: Logs) -> None:
    """Standard-library records rendered by ``ProcessorFormatter(foreign_pre_chain=...)``:
    the record's own call site (``stacklevel`` and ``exception()`` included)."""
    formatter = ProcessorFormatter(
        foreign_pre_chain=[adder()],
        processors=[ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
    )
    logger, out = stdlib_handler("app.callsite.foreign", formatter)
    keys = set(HOST_FIELDS)  # what a LogRecord carries
    expected = [site()]
    logger.info("plain record")
    expected.append(site())
    log_for_caller(logger, "from a helper")
    try:
        raise KeyError("k")
    except KeyError:
        expected.append(site())
        logger.exception("failed")
    lines = out.getvalue().splitlines()
    assert [params(line, keys) for line in lines] == [
        {k: v for k, v in e.items() if k in keys} for e in expected
    ]
    assert exported(log_setup) == ["plain record", "from a helper", "failed"]


HOST_FORMAT = "HOST|" + "|".join(HOST_FIELDS.values())


def host_params(line: str) -> dict[str, Any]:
    """One line of the host's Formatter, by parameter (the numbers as ints)."""
    values = line.split("|")[1:]
    return {
        key: int(value) if HOST_FIELDS[key].endswith("d") else value
        for key, value in zip(HOST_FIELDS, values, strict=True)
    }


@pytest.mark.parametrize("setup", ["dictConfig", "handler"])
def test_host_formatter_names_the_caller(log_setup: Logs, logger_class: None, setup: str) -> None:
    """The application's own Formatter (%(funcName)s, %(lineno)d, %(filename)s, ...) on a
    root handler it set with dictConfig, or on its own logger's handler: the caller's line,
    for logging calls (``stacklevel``, ``exception()``) and structlog over logging."""
    out = io.StringIO()
    name = f"app.host.{setup}"
    if setup == "dictConfig":
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {"host": {"format": HOST_FORMAT}},
                "handlers": {
                    "out": {"class": "logging.StreamHandler", "stream": out, "formatter": "host"}
                },
                "root": {"handlers": ["out"], "level": "INFO"},
            }
        )
        logger = logging.getLogger(name)
    else:
        logger, out = stdlib_handler(name, logging.Formatter(HOST_FORMAT))
    structlog.configure(
        processors=[structlog.stdlib.render_to_log_kwargs],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    slog = structlog.get_logger(f"{name}.structlog")
    expected = [site()]
    logger.info("record")
    expected.append(site())
    log_for_caller(logger, "from a helper")
    try:
        raise OSError("io")
    except OSError:
        expected.append(site())
        logger.exception("failed")
    expected.append(site())
    slog.info("structlog record")
    lines = [line for line in out.getvalue().splitlines() if line.startswith("HOST|")]
    keys = set(HOST_FIELDS)
    assert [host_params(line) for line in lines] == [
        {k: v for k, v in e.items() if k in keys} for e in expected
    ]
    assert exported(log_setup) == ["record", "from a helper", "failed", "structlog record"]


def test_wrappers_run_in_frames_of_the_package_they_wrap(log_setup: Logs) -> None:
    """The distro's ``Logger.handle`` and ``_process_event`` frames carry a module name
    under ``logging`` and ``structlog``: what every call-site walk skips."""
    seen: dict[str, str] = {}

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            frame = sys._getframe()
            while frame.f_code.co_name != "handle" or frame.f_code.co_filename == logging.__file__:
                frame = frame.f_back  # type: ignore[assignment]
            seen["handle"] = frame.f_globals["__name__"]

    def spy_processor(logger: Any, method: str, event_dict: Any) -> Any:
        seen["process_event"] = sys._getframe(1).f_globals["__name__"]
        return event_dict

    logger = logging.getLogger("app.spy")
    logger.addHandler(Spy())
    logger.warning("spied")
    structlog.configure(
        processors=[spy_processor, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(io.StringIO()),
    )
    structlog.get_logger().info("spied")
    assert seen["handle"].startswith("logging.")
    assert seen["process_event"].startswith("structlog.")
    assert logging.Logger.handle.__module__ == "otel_distro.logging._scrub"


def test_in_frames_of_keeps_the_code_and_reads_no_global() -> None:
    """The copy runs the same code with its closure; a global name is a NameError."""
    captured = [0]
    getframe = sys._getframe

    def closure_only(x: int, *, step: int = 2) -> tuple[int, str]:
        return x + step + captured[0], getframe().f_globals["__name__"]

    def reads_a_global() -> Callable[..., Any]:
        return in_frames_of  # a global of this module

    copy = in_frames_of("logging._test", closure_only)
    captured[0] = 10
    assert copy(1) == (13, "logging._test")
    assert (copy.__module__, copy.__qualname__) == (
        closure_only.__module__,
        closure_only.__qualname__,
    )
    with pytest.raises(NameError):
        in_frames_of("logging._test", reads_a_global)()
