"""``make demo`` in its non-interactive smoke mode leaves a trace where it says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from examples.panel.rabbitmq import SERVER
from examples.panel.runner import REPO_ROOT, clean_environ, free_port
from otel_distro.cli._sources import FileSource
from tests.support.ci import require

pytestmark = pytest.mark.integration


def _demo(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "examples.demo", "--smoke", "--no-stack", "--dir", str(folder)],
        cwd=REPO_ROOT,
        env=clean_environ(env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_smoke_run_prints_a_trace_id_that_is_in_the_files(tmp_path: Path) -> None:
    """``--smoke`` ends with ``trace <id> is in <dir>``; that folder holds the trace, with
    the outbound call's CLIENT span and its log records, and the waterfall was printed.
    With RabbitMQ (the Debian package) a subscriber got the new site's event over SSE,
    and the creating request's trace holds publish, consume and the SSE forward."""
    require(SERVER.exists() or shutil.which("rabbitmq-server"), "rabbitmq-server is not installed")
    folder = tmp_path / "telemetry"
    result = _demo(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"^trace ([0-9a-f]{32}) is in (.+)$", result.stdout, re.M)
    assert match, result.stdout
    trace_id, where = match.groups()
    assert Path(where) == folder.resolve()
    files = FileSource([Path(where)])
    trace = files.trace(trace_id)
    assert trace is not None, result.stdout
    assert re.search(
        rf"^  200  POST +/sites/\S+/charge +{trace_id}  alice pays \(third-party call via",
        result.stdout,
        re.M,
    ), result.stdout  # the printed trace is the call through the factory client
    [call] = [span for span in trace.spans if span.kind == "CLIENT"]
    assert call.attributes["peer.service"] == "billing"
    assert call.attributes["http.response.status_code"] == 200
    records = [log for span in trace.spans for log in span.logs]
    [record] = [log for log in records if log.body == "external_http_call"]
    assert record.attributes["peer.service"] == "billing"
    assert "demo-billing-key-123" not in repr(record.attributes)  # its X-API-Key, redacted
    assert f"otel-distro traces show {trace_id} --dir {where}" in result.stdout
    assert f"open in the trace UI: http://localhost:16686/trace/{trace_id}" in result.stdout
    assert "a normal stop" in result.stdout and "exit code" not in result.stdout

    created = re.search(r"^  201  POST +/sites +([0-9a-f]{32})  alice creates", result.stdout, re.M)
    assert created, result.stdout
    sse_trace = created.group(1)
    assert re.search(
        rf"^  200  SSE +/events +{sse_trace}  the site event reached", result.stdout, re.M
    ), result.stdout
    assert f"RabbitMQ -> SSE on one trace, {sse_trace}" in result.stdout
    flow = files.trace(sse_trace)
    assert flow is not None
    kinds = [span.kind for span in flow.spans]
    assert kinds[:4] == ["SERVER", "PRODUCER", "CONSUMER", "INTERNAL"], kinds
    assert [span.depth for span in flow.spans[:4]] == [0, 1, 2, 3]  # one chain, one trace


def test_without_rabbitmq_the_demo_says_why_it_skipped_the_sse_step(tmp_path: Path) -> None:
    """A broker URL nothing answers at: the SSE step is skipped with the reason, the rest
    of the demo runs, and its error's trace link is printed under the error."""
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    result = _demo(tmp_path / "telemetry", PANEL_AMQP_URL=closed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "RabbitMQ -> SSE step skipped: $PANEL_AMQP_URL is set but nothing answers there"
        in result.stdout
    )
    assert not re.search(r"^  \S+  SSE ", result.stdout, re.M)
    assert "RabbitMQ -> SSE on one trace" not in result.stdout
    error = re.search(r"^  500  GET +/boom\S* +([0-9a-f]{32})  an error$", result.stdout, re.M)
    assert error, result.stdout
    link = f"http://localhost:16686/trace/{error.group(1)}"
    assert f"the error's trace: {link}" in result.stdout
