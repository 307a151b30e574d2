"""The pytest plugin (entry point ``pytest11``): the ``otel_capture`` fixture.

Loading the plugin only defines fixtures: nothing is configured, patched or reset
until a test asks for ``otel_capture``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from otel_distro.testing._capture import Capture

__all__ = ["otel_capture", "otel_capture_env"]


@pytest.fixture
def otel_capture_env() -> dict[str, str]:
    """Environment variables set while ``otel_capture`` runs (override it to configure
    the distro for a module or a test: ``{"OTEL_DISTRO_ACCESS_LOG": "true"}``)."""
    return {}


@pytest.fixture
def otel_capture(otel_capture_env: dict[str, str]) -> Iterator[Capture]:
    """The distro's real pipeline with in-memory exporters, reset after the test.

    Query what was exported with ``spans(name=, kind=)``, ``logs(event=, level=)``,
    ``metric(name)`` and ``trace(trace_id)``; ``assert_no_secret(value)`` fails when
    ``value`` reached any signal.
    """
    from otel_distro.testing._capture import Capture

    capture = Capture(otel_capture_env)
    capture.start()
    try:
        yield capture
    finally:
        capture.stop()
