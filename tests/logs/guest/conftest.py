"""The ``cli`` fixture: logging configured as in a process that is not a server."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import structlog

from otel_distro import logging as otel_logs
from tests.support.logs import Logs, make_settings


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
