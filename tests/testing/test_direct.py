"""``Capture`` used directly (outside the fixture): nesting and unknown levels are refused."""

from __future__ import annotations

from typing import Any

import pytest

from otel_distro.testing import Capture


def test_a_second_capture_while_one_is_active_is_refused(otel_capture: Any) -> None:
    """Only one capture receives the process's telemetry: starting another raises."""
    with pytest.raises(RuntimeError, match="already active"):
        Capture().start()
    assert otel_capture.spans() == []


def test_an_unknown_level_names_the_allowed_ones(otel_capture: Any) -> None:
    """``logs(level=...)`` with an unknown name fails with the names it accepts."""
    with pytest.raises(ValueError, match=r"unknown log level 'loud'.*warning"):
        otel_capture.logs(level="loud")


def test_the_context_manager_installs_and_removes_the_pipeline() -> None:
    """``with Capture(env)`` sets the variables and the bridge, and takes both away."""
    import logging
    import os

    from otel_distro.logging import get_logger

    with Capture({"OTEL_SERVICE_NAME": "direct-svc"}) as capture:
        assert os.environ["OTEL_SERVICE_NAME"] == "direct-svc"
        get_logger("direct").warning("direct_event", n=3)
        (record,) = capture.logs(event="direct_event", level="warning")
        assert record.attributes["n"] == 3
    assert "OTEL_SERVICE_NAME" not in os.environ or os.environ["OTEL_SERVICE_NAME"] != "direct-svc"
    assert all(
        type(h).__module__.split(".")[0] != "otel_distro" for h in logging.getLogger().handlers
    )
