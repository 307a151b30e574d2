"""Over-long trace-context headers from clients: one warning per kind a minute, not per request."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_distro._header_warnings import (
    LOGGER,
    HeaderWarningFilter,
    _held,
    quiet_header_warnings,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
LONG_TRACESTATE = ",".join(f"k{n}=" + "v" * 250 for n in range(40))  # over 8,192


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(caplog: pytest.LogCaptureFixture) -> Iterator[Clock]:
    """A filter on the propagator's logger whose minutes the test moves on."""
    _held.reset()
    ticks = Clock()
    quiet = HeaderWarningFilter(clock=ticks, interval=60.0)
    logger = logging.getLogger(LOGGER)
    logger.addFilter(quiet)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    yield ticks
    logger.removeFilter(quiet)
    _held.reset()


def _requests(count: int) -> None:
    propagator = TraceContextTextMapPropagator()
    for _ in range(count):
        context = propagator.extract({"traceparent": TRACEPARENT, "tracestate": LONG_TRACESTATE})
        assert context  # the trace context itself is still read


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_a_flood_of_over_long_headers_gives_one_line(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """500 requests with an over-long tracestate within a minute: one warning."""
    _requests(500)
    (line,) = _said(caplog)
    assert line.startswith("tracestate header exceeded the maximum length")


def test_the_next_line_after_a_minute_says_how_many_were_left_out(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A minute later the next warning is said, with the count of those left out."""
    _requests(10)
    clock.now += 59.0
    _requests(5)
    clock.now += 1.0
    _requests(3)
    said = _said(caplog)
    assert len(said) == 2
    assert said[1].endswith("(and 14 more since the last such line)")


def test_other_warnings_of_the_logger_pass(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    """Only the over-long-header warnings are bounded."""
    for _ in range(3):
        logging.getLogger(LOGGER).warning("something else")
    assert _said(caplog) == ["something else"] * 3


def test_installing_twice_adds_one_filter() -> None:
    """The configurator's call is idempotent."""
    quiet_header_warnings()
    quiet_header_warnings()
    filters = logging.getLogger(LOGGER).filters
    assert sum(isinstance(f, HeaderWarningFilter) for f in filters) == 1
