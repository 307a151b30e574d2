"""Helpers of the good-guest tests: planted secrets, the application's dictConfig, a
scenario run without the distro."""

from __future__ import annotations

import io
import logging
import logging.config
import secrets
from collections.abc import Callable
from typing import Any

import structlog

from otel_distro import logging as otel_logs
from tests.support.logs import Logs, make_settings

__all__ = ["REDACTED", "OnlyApp", "dict_config", "plant", "run_dict_config", "without_distro"]

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
