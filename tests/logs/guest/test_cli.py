"""The application's own logging configuration wins (a command-line program):
each scenario behaves as without the distro (the same scenario is run without it first),
while records are still exported and planted secrets are redacted in every output."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Callable

import pytest
import structlog

from otel_distro import logging as otel_logs
from tests.support.guest import (
    REDACTED,
    plant,
)
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


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
