"""Whole-process behaviour, in subprocesses: nothing lost at exit, nothing doubled by fork."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
    from opentelemetry.sdk._logs.export import LogRecordExportResult
    from otel_distro.config import load_settings
    from otel_distro.logging import configure, get_logger

    class Count(LogRecordExporter):
        def __init__(self, path):
            self.path = path
        def export(self, batch):
            with open(self.path, "a") as f:
                for r in batch:
                    f.write(str(r.log_record.body) + "\\n")
            return LogRecordExportResult.SUCCESS
        def shutdown(self):
            pass
        def force_flush(self, timeout_millis=30000):
            return True

    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(Count(sys.argv[1])))
    configure(load_settings({"ENVIRONMENT": "production"}), provider)
    for i in range(500):
        get_logger("app").info("structlog_event", i=i)
        logging.getLogger("lib").warning("stdlib_event %d", i)
    """
)


def _run(tmp_path: Path) -> tuple[list[str], list[str]]:
    exported = tmp_path / "exported.txt"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(exported)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return exported.read_text().splitlines(), result.stdout.splitlines()


def test_every_record_is_exported_at_exit(tmp_path: Path) -> None:
    """A process that exits without flushing still exports each record exactly once."""
    exported, _ = _run(tmp_path)
    assert exported.count("structlog_event") == 500
    assert sum(1 for body in exported if body.startswith("stdlib_event")) == 500


def test_every_line_is_written_at_exit(tmp_path: Path) -> None:
    """Each call also produces exactly one rendered stdout line before exit."""
    _, lines = _run(tmp_path)
    events = [json.loads(line)["event"] for line in lines]
    assert len(events) == 1000 and events.count("structlog_event") == 500


FORK_SCRIPT = SCRIPT.split("for i in range(500):")[0] + textwrap.dedent(
    """
    import os
    get_logger("app").info("queued_before_fork")
    pid = os.fork()
    if pid == 0:
        get_logger("app").info("child_event")
        sys.exit(0)
    os.waitpid(pid, 0)
    """
)


def test_fork_neither_loses_nor_doubles(tmp_path: Path) -> None:
    """A forked worker logs its own events; the parent's queued event is not repeated."""
    exported = tmp_path / "exported.txt"
    subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT, str(exported)],
        timeout=60,
        check=True,
        capture_output=True,
    )
    bodies = exported.read_text().splitlines()
    assert bodies.count("child_event") == 1
    assert bodies.count("queued_before_fork") == 1
