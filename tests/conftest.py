"""Shared fixtures: ``otlp_capture`` (a receiver per test) and ``launch`` (real app runs).

The suite runs with ``OTEL_DISTRO_RAISE_INTERNAL_ERRORS=1``: a bug in the distro's
own code fails the test that hit it instead of being swallowed.  Tests that inject
failures on purpose to prove that telemetry never breaks the app use
``production_mode``.  Every test starts and ends with the process state of
:mod:`otel_distro._state` reset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from opentelemetry import context as otel_context

from otel_distro import _state
from otel_distro._report import RAISE_VARIABLE
from tests.support import AppProcess, OtlpCapture, launch_app

pytest_plugins = ["tests.support.logs", "tests.support.sentry"]

os.environ.setdefault(RAISE_VARIABLE, "1")

# A shared 2-core machine can be slow at any moment: property tests check behaviour,
# never speed, so hypothesis' timing checks are off.
settings.register_profile(
    "otel-distro", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("otel-distro")


@pytest.fixture(autouse=True)
def reset_process_state() -> Iterator[None]:
    """Every registered singleton of the distro is fresh before and after each test, and
    the OpenTelemetry context (baggage, current span) is what it was before the test."""
    _state.reset()
    before = otel_context.get_current()
    yield
    _state.reset()
    otel_context.attach(before)


@pytest.fixture
def production_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Internal errors are swallowed and counted, as in production (not re-raised)."""
    monkeypatch.delenv(RAISE_VARIABLE, raising=False)


@pytest.fixture
def otlp_capture() -> Iterator[OtlpCapture]:
    """An OTLP/HTTP receiver on a free 127.0.0.1 port, stopped after the test."""
    with OtlpCapture() as capture:
        yield capture


@pytest.fixture
def launch(otlp_capture: OtlpCapture) -> Iterator[Callable[..., AppProcess]]:
    """Start apps with :func:`tests.support.launch_app`; all stop at teardown.

    Exports go to this test's ``otlp_capture`` unless ``capture=`` says otherwise.
    """
    with ExitStack() as stack:

        def start(app: str = "examples.panel.app:app", **kwargs: Any) -> AppProcess:
            kwargs.setdefault("capture", otlp_capture)
            return stack.enter_context(launch_app(app, **kwargs))

        yield start
