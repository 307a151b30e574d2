"""Concurrent logging threads: each record keeps its own span ids; the one-entry caches of
``hex_ids`` and ``_iso`` never hand one thread another's value.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.trace import SpanContext, TraceFlags

from otel_distro.logging import get_logger
from otel_distro.logging._correlate import hex_ids
from otel_distro.logging._pipeline import _iso
from tests.support.logs import Logs, new_tracer, span_ids

pytestmark = pytest.mark.usefixtures("clean_logging_state")


# --- concurrent threads: hex_ids and _iso -------------------------------------------

THREADS = 8
PER_THREAD = 500


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as possible, to interleave the caches' reads and writes."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _run_threads(work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(THREADS)

    def run(n: int) -> None:
        barrier.wait()
        work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_threads_logging_in_their_own_spans_get_their_own_ids(
    configure_route: Callable[..., Logs], fast_switching: None, route: str
) -> None:
    """8 threads, each in its own span, 500 records each: every line and record has its span."""
    setup = configure_route(route)
    tracer = new_tracer()
    spans: dict[int, tuple[str, str]] = {}
    log = get_logger("app")

    def work(n: int) -> None:
        with tracer.start_as_current_span(f"thread-{n}") as span:
            spans[n] = span_ids(span)
            for i in range(PER_THREAD):
                log.info("tick", thread=n, seq=i)

    _run_threads(work)
    lines, records = _assert_each_thread_has_its_ids(setup, spans)
    stamps = {(line["thread"], line["seq"]): line["timestamp"] for line in lines}
    for record in records:
        attrs = dict(record.log_record.attributes or {})
        assert stamps[(attrs["thread"], attrs["seq"])] == _expected_iso(record.log_record.timestamp)


def test_threads_in_application_chains_get_their_own_ids(
    configure_route: Callable[..., Logs], fast_switching: None
) -> None:
    """An application-owned structlog chain completes events on the calling threads."""
    setup = configure_route("batches")
    structlog.configure(processors=[structlog.processors.JSONRenderer()])
    tracer = new_tracer()
    spans: dict[int, tuple[str, str]] = {}

    def work(n: int) -> None:
        log = structlog.get_logger("app")
        with tracer.start_as_current_span(f"thread-{n}") as span:
            spans[n] = span_ids(span)
            for i in range(PER_THREAD):
                log.info("tick", thread=n, seq=i)

    _run_threads(work)
    _assert_each_thread_has_its_ids(setup, spans)


def _assert_each_thread_has_its_ids(
    setup: Logs, spans: dict[int, tuple[str, str]]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every line and record of every thread carries that thread's span ids; returns both."""
    lines = setup.json_lines()
    records = setup.records()
    assert len(lines) == len(records) == THREADS * PER_THREAD
    for line in lines:
        assert (line["trace_id"], line["span_id"]) == spans[line["thread"]]
    for record in records:
        attrs = dict(record.log_record.attributes or {})
        ids = format(record.log_record.trace_id, "032x"), format(record.log_record.span_id, "016x")
        assert ids == spans[attrs["thread"]]
    return lines, records


def _expected_iso(ts_ns: int) -> str:
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{rest // 1000:06d}Z"


def test_hex_ids_and_iso_under_concurrent_threads(fast_switching: None) -> None:
    """The one-entry caches never hand one thread another thread's value."""
    errors: list[str] = []

    def work(n: int) -> None:
        span_context = SpanContext(
            (n + 1) << 64 | 0xABC, (n + 1) << 8, False, TraceFlags(TraceFlags.SAMPLED)
        )
        expected = format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
        base = 1_700_000_000_000_000_000 + n * 3_600_000_000_000
        for i in range(2000):
            if hex_ids(span_context) != expected:
                errors.append(f"ids {n}/{i}")
            ts = base + (i % 5) * 1_000_000_000 + i * 1000
            if _iso(ts) != _expected_iso(ts):
                errors.append(f"iso {n}/{i}")

    _run_threads(work)
    assert errors == []


def test_iso_formats_like_datetime() -> None:
    for ts in (0, 1, 999_999_999, 1_000_000_000, 1_700_000_000_123_456_789, 4_102_444_800 * 10**9):
        assert _iso(ts) == _expected_iso(ts)
