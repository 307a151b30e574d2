"""Shared fixtures: ``otlp_capture`` (a receiver per test) and ``launch`` (real app runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.support import AppProcess, OtlpCapture, launch_app

pytest_plugins = ["tests.support.logs"]


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
