"""Outage lines: one when it starts, at most one per interval while it lasts, one at its end."""

from __future__ import annotations

import logging

import pytest

from otel_distro.exporters import _delivery, _quiet
from otel_distro.exporters._delivery import Endpoint, dropped_counts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> Endpoint:
    return Endpoint("http://collector:4318", clock=clock, interval=60.0)


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line]


def test_first_failure_is_said_once(state: Endpoint, capsys: pytest.CaptureFixture[str]) -> None:
    """Many failed batches in one interval give exactly one line, naming the endpoint."""
    for _ in range(50):
        state.failure("spans", 10)
    said = lines(capsys)
    assert len(said) == 1
    assert "http://collector:4318" in said[0] and "queue bounds" in said[0]


def test_one_line_per_interval_with_counts(
    state: Endpoint, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """While an outage lasts, one more line per interval counts what was lost in it."""
    state.failure("spans", 1)
    capsys.readouterr()
    for _ in range(30):
        clock.now += 1
        state.failure("spans", 2)
        state.failure("logs", 3)
    assert lines(capsys) == []
    clock.now += 31
    state.failure("metrics", 4)
    said = lines(capsys)
    assert len(said) == 1
    assert "60 spans, 90 log records, 4 metric points lost in the last 61s" in said[0]


def test_recovery_is_one_line_with_the_total(
    state: Endpoint, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first success after an outage says how long it lasted and what it cost."""
    state.failure("spans", 5)
    clock.now += 12.5
    state.failure("logs", 1)
    capsys.readouterr()
    state.success()
    state.success()
    said = lines(capsys)
    assert len(said) == 1
    assert "recovered after 12.5s (5 spans, 1 log record lost during the outage)" in said[0]


def test_success_without_outage_is_silent(
    state: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    """Healthy exports print nothing."""
    for _ in range(10):
        state.success()
    assert lines(capsys) == []


def test_a_new_outage_is_said_again(
    state: Endpoint, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a recovery, the next failure starts a new outage with its own line."""
    state.failure("spans", 1)
    state.success()
    clock.now += 1
    state.failure("spans", 1)
    said = lines(capsys)
    assert [line.split(" ", 2)[1] for line in said] == ["cannot", "export", "cannot"]


def test_down_at_startup_is_not_said_twice(
    state: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    """An endpoint already announced as down at startup gets no second outage line."""
    state.down_at_startup("connection refused")
    state.failure("spans", 3)
    assert lines(capsys) == []
    state.success()
    assert "3 spans lost during the outage" in lines(capsys)[0]


def test_failures_are_counted_by_signal(state: Endpoint) -> None:
    """Every failed item is counted under its signal."""
    state.failure("spans", 4)
    state.failure("logs", 2)
    state.failure("spans", 1)
    assert dropped_counts() == {"spans": 5, "logs": 2}


# --- the SDK's per-batch warnings ----------------------------------------------------


@pytest.fixture
def exporter_logger() -> logging.Logger:
    _quiet.quiet_exporter_loggers()
    return logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")


def test_transient_warnings_are_filtered(
    exporter_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """``Transient error ... retrying`` never reaches the handlers; its reason is kept."""
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            exporter_logger.warning(
                "Transient error %s encountered while exporting %s batch, retrying in %.2fs.",
                ConnectionRefusedError("[Errno 111] Connection refused"),
                "spans",
                1.0,
            )
    assert caplog.records == []
    assert _delivery._last_reason.value["spans"] == "connection refused"


def test_other_exporter_warnings_pass(
    exporter_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """Warnings other than the per-batch ones still reach the handlers."""
    with caplog.at_level(logging.WARNING):
        exporter_logger.warning("Dropping span batch: serialized size %d bytes exceeds", 10)
    assert len(caplog.records) == 1


def test_queue_full_is_counted_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """The batch processor's per-item ``Queue full`` warning becomes a count."""
    _quiet.quiet_exporter_loggers()
    logger = logging.getLogger("opentelemetry.sdk._shared_internal")
    with caplog.at_level(logging.WARNING):
        for _ in range(7):
            logger.warning("Queue full, dropping %s.", "Span")
        logger.warning("Queue full, dropping %s.", "Log")
    assert caplog.records == []
    assert dropped_counts() == {"spans": 7, "logs": 1}


def test_a_forked_child_starts_with_nothing_in_flight() -> None:
    """Exports in flight in the parent at fork time are not counted by the child."""
    _delivery._add_inflight("spans", 5)
    _delivery._after_fork_in_child()
    assert _delivery.inflight_counts() == {}
