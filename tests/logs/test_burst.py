"""A burst of records larger than the batch processor's queue loses none.

The log worker completes records faster than an exporter sends them; the SDK's
``BatchLogRecordProcessor`` drops what does not fit in its queue (2,048 by default).
Records that do not fit are held and handed over as the exporter frees room; when it
frees none (collector hung or down) they are dropped, so a dead endpoint never holds
memory for long, and lines (an ERROR call's own included) are never delayed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)

from otel_distro import logging as logs
from otel_distro.logging import get_logger
from tests.support.logs import make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")


class SlowExporter(LogRecordExporter):
    """Takes a little time per batch (a collector over the network); can hang."""

    def __init__(self, delay: float = 0.002) -> None:
        self.delay = delay
        self.records: list[ReadableLogRecord] = []
        self.hang = threading.Event()
        self.release = threading.Event()

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        if self.hang.is_set():
            self.release.wait(30)
        time.sleep(self.delay)
        self.records.extend(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@pytest.fixture
def slow() -> Iterator[tuple[SlowExporter, LoggerProvider]]:
    exporter = SlowExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            exporter, schedule_delay_millis=50, max_queue_size=256, max_export_batch_size=64
        )
    )
    logs.configure(make_settings(LOG_LEVEL="INFO"), provider)
    yield exporter, provider
    exporter.release.set()
    provider.shutdown()


def _sent(exporter: SlowExporter, tag: str) -> list[Any]:
    return [
        r.log_record.attributes["seq"]
        for r in exporter.records
        if r.log_record.attributes.get("tag") == tag
    ]


def test_a_burst_beyond_the_processor_queue_is_exported_whole(
    slow: tuple[SlowExporter, LoggerProvider], capsys: pytest.CaptureFixture[str]
) -> None:
    exporter, provider = slow
    assert logs._emitter.writer is not None and logs._emitter.writer.route == "batches"
    log = get_logger("burst")
    for seq in range(5000):  # 20x the processor's queue
        log.info("burst", tag="a", seq=seq)
    provider.force_flush()
    assert sorted(_sent(exporter, "a")) == list(range(5000))
    assert len(capsys.readouterr().out.splitlines()) == 5000


def test_a_hung_exporter_does_not_hold_the_queue_or_error_callers(
    slow: tuple[SlowExporter, LoggerProvider], capsys: pytest.CaptureFixture[str]
) -> None:
    """With the exporter stuck, records beyond its queue are dropped (as before), and
    every line, the ERROR's last, is written."""
    exporter, provider = slow
    exporter.hang.set()
    log = get_logger("burst")
    for seq in range(3000):
        log.info("stuck", tag="b", seq=seq)
    log.error("failed", tag="c", seq=0)
    logs.flush()
    lines = [line for line in capsys.readouterr().out.splitlines() if '"logger": "burst"' in line]
    assert len(lines) == 3001 and '"failed"' in lines[-1]
    exporter.release.set()
    exporter.hang.clear()
    log.info("later", tag="d", seq=0)
    provider.force_flush()
    assert _sent(exporter, "d") == [0]


def _worker_busy() -> tuple[threading.Event, threading.Event]:
    """Hold the log worker's lock from another thread (a worker busy with a batch)."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with logs._emitter._lock:
            held.set()
            done.wait(30)

    threading.Thread(target=hold, daemon=True).start()
    held.wait(5)
    return held, done


def test_an_error_does_not_wait_for_a_busy_worker(
    slow: tuple[SlowExporter, LoggerProvider], capsys: pytest.CaptureFixture[str]
) -> None:
    """An ERROR is completed on the caller's thread only if the worker's lock comes
    free quickly; otherwise the call returns and the worker writes the line later."""
    _, done = _worker_busy()
    try:
        get_logger("burst").error("failed", tag="e", seq=0)
        assert '"failed"' not in capsys.readouterr().out  # returned without its line
    finally:
        done.set()
    logs.flush()
    assert '"failed"' in capsys.readouterr().out


def test_an_error_after_a_backlog_leaves_it_to_the_worker(
    slow: tuple[SlowExporter, LoggerProvider], capsys: pytest.CaptureFixture[str]
) -> None:
    """More than a few hundred events waiting: the ERROR caller does not complete them."""
    log = get_logger("burst")
    _, done = _worker_busy()
    try:
        for seq in range(400):
            log.info("queued", tag="f", seq=seq)
        pending = logs._emitter.pending()
        log.error("failed", tag="f", seq=400)
        assert pending >= 400 and logs._emitter.pending() == pending + 1
    finally:
        done.set()
    logs.flush()
    lines = [line for line in capsys.readouterr().out.splitlines() if '"tag": "f"' in line]
    assert len(lines) == 401 and '"failed"' in lines[-1]
