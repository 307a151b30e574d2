"""``make demo`` in its non-interactive smoke mode leaves a trace where it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from examples.panel.runner import REPO_ROOT, clean_environ
from otel_distro.cli._sources import FileSource

pytestmark = pytest.mark.integration


def test_smoke_run_prints_a_trace_id_that_is_in_the_files(tmp_path: Path) -> None:
    """``--smoke`` ends with ``trace <id> is in <dir>``; that folder holds the trace, with
    the outbound call's CLIENT span and its log records, and the waterfall was printed."""
    folder = tmp_path / "telemetry"
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--smoke", "--dir", str(folder)],
        cwd=REPO_ROOT,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"^trace ([0-9a-f]{32}) is in (.+)$", result.stdout, re.M)
    assert match, result.stdout
    trace_id, where = match.groups()
    assert Path(where) == folder.resolve()
    trace = FileSource([Path(where)]).trace(trace_id)
    assert trace is not None, result.stdout
    assert any(span.kind == "CLIENT" for span in trace.spans)
    assert any(span.logs for span in trace.spans)
    assert f"otel-distro traces show {trace_id} --dir {where}" in result.stdout
    assert "a normal stop" in result.stdout and "exit code" not in result.stdout
