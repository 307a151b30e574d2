"""The application's own logging configuration wins: each scenario behaves as without the
distro (the same scenario is run without it first), while records are still exported and
planted secrets are redacted in every output."""

from __future__ import annotations

import io
import logging
import logging.config
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from otel_distro import logging as otel_logs
from tests.support.logs import Logs, make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")

REDACTED = "REDACTED"


def plant() -> str:
    return "s" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


class OnlyApp(logging.Filter):
    """The application's own filter: drops records whose message says ``drop``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "drop" not in record.getMessage()


def dict_config(stream: io.StringIO, level: str = "DEBUG") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"app": {"format": "APP %(levelname)s %(name)s %(message)s"}},
        "filters": {"only": {"()": OnlyApp}},
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "stream": stream,
                "formatter": "app",
                "filters": ["only"],
                "level": "DEBUG",
            }
        },
        "root": {"handlers": ["out"], "level": level},
    }


def run_dict_config(secret: str) -> tuple[str, dict[str, Any]]:
    """The application's dictConfig, then a few records; what its handler printed."""
    stream = io.StringIO()
    logging.config.dictConfig(dict_config(stream))
    log = logging.getLogger("app.part")
    log.debug("debug detail %s", 7)
    log.info("login password=%s", secret)
    log.info("drop this one")
    log.warning("careful")
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if h.name == "out"]
    shape = {
        "level": root.level,
        "formatter": handler.formatter._fmt if handler.formatter else None,  # type: ignore[union-attr]
        "filters": [type(f).__name__ for f in handler.filters],
        "stream": handler.stream is stream,  # type: ignore[attr-defined]
        "handler_level": handler.level,
    }
    return stream.getvalue(), shape


def without_distro(logs: Logs, scenario: Callable[[], Any], **env: str) -> Any:
    """Run *scenario* with the distro's logging undone and the root logger as it was,
    then configure the distro again (same provider)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    otel_logs.reset()
    root.handlers[:] = [h for h in handlers if not isinstance(h, otel_logs._stdlib.RootHandler)]
    try:
        return scenario()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
        otel_logs.configure(make_settings(**env), logs.provider)


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


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, log_setup: Logs) -> Callable[..., Logs]:
    """Logging configured as ``opentelemetry-instrument`` does, in a process that is not a
    server (no server package counts as imported), with pytest's handlers off the root."""
    from otel_distro.logging import _guest

    monkeypatch.setattr(_guest, "_SERVER_MODULES", ())
    monkeypatch.setattr(_guest.guest, "server", False)
    root = logging.getLogger()

    def setup(**env: str) -> Logs:
        otel_logs.reset()
        structlog.reset_defaults()
        root.handlers[:] = []
        root.setLevel(logging.WARNING)
        otel_logs.configure(make_settings(**env), log_setup.provider, auto=True)
        return log_setup

    return setup


def test_cli_gets_no_distro_lines_on_stdout(
    cli: Callable[..., Logs], capsys: pytest.CaptureFixture[str]
) -> None:
    """A CLI under opentelemetry-instrument: an outbound-call record and library INFO
    records put nothing on stdout; the root level stays Python's; records are exported."""
    from otel_distro.http._hooks import EVENT, _emit

    logs = cli()
    assert logging.getLogger().level == logging.WARNING
    logging.getLogger("httpx").info("HTTP Request: GET http://example.test")
    _emit("info", EVENT, {"url.full": "http://example.test/x"})
    otel_logs.flush()
    assert capsys.readouterr().out == ""
    assert [r.log_record.body for r in logs.records()] == [EVENT]


def test_cli_warnings_still_reach_stderr_as_python_prints_them(
    cli: Callable[..., Logs], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without handlers, a WARNING is printed on stderr by logging's last resort, as
    without the distro (redacted), and exported."""
    secret = plant()
    logs = cli()
    logging.getLogger("lib").warning("token=%s rejected", secret)
    otel_logs.flush()
    out, err = capsys.readouterr()
    assert out == "" and err == f"token={REDACTED} rejected\n"
    assert len(logs.records()) == 1


def test_cli_keeps_structlog_defaults(cli: Callable[..., Logs]) -> None:
    """A CLI's structlog stays structlog's default configuration (bridged, not replaced)."""
    logs = cli()
    assert not structlog.is_configured()
    defaults = structlog._config._BUILTIN_DEFAULT_PROCESSORS
    assert [type(p) for p in structlog.get_config()["processors"]] == [type(p) for p in defaults]
    structlog.get_logger("cli").info("step", n=1)
    assert [r.log_record.body for r in logs.records()] == ["step"]


def test_cli_lines_when_log_level_is_set(
    cli: Callable[..., Logs], capsys: pytest.CaptureFixture[str]
) -> None:
    """LOG_LEVEL set explicitly asks for the distro's lines, also in a CLI."""
    cli(LOG_LEVEL="INFO")
    logging.getLogger("lib").info("now_printed")
    otel_logs.flush()
    assert "now_printed" in capsys.readouterr().out
    assert logging.getLogger().level == logging.INFO


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
