"""``otel-distro traces show`` on what a real ``opentelemetry-instrument`` launch wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from examples.panel.runner import launch_app
from examples.panel.tokens import make_token

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent / "otel-distro"


def test_traces_show_reads_the_file_output_of_a_real_launch(tmp_path: Path) -> None:
    """The app writes OTLP-JSON files; the CLI finds the request's trace with its tenant,
    its spans and its log records, each record once although logs as span events export
    it a second time as a ``log`` event of its span."""
    files = tmp_path / "telemetry"
    env = {
        "OTEL_TRACES_EXPORTER": "otel_distro_file",
        "OTEL_LOGS_EXPORTER": "otel_distro_file",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_DISTRO_FILE_FALLBACK_DIR": str(files),
        "OTEL_DISTRO_LOGS_AS_SPAN_EVENTS": "true",
    }
    token = make_token("u-7", "t-cli")
    with launch_app(env=env) as app:
        response = app.client().post(
            "/sites",
            json={"name": "blog", "domain": "blog.example"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        trace_id = response.headers["x-request-id"]
        app.stop()
    done = subprocess.run(
        [str(BIN), "traces", "show", trace_id, "--dir", str(files), "--ascii"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"trace {trace_id}" in done.stdout
    assert "tenant t-cli" in done.stdout
    assert "POST /sites" in done.stdout
    created = [line for line in done.stdout.splitlines() if "site_created" in line]
    assert len(created) == 1 and "INFO" in created[0], done.stdout
    assert "log.message" not in done.stdout
    exported = (files / "traces.jsonl").read_text()
    assert '"log.message"' in exported and "site_created" in exported  # it was on the span too
    listing = subprocess.run(
        [str(BIN), "traces", "show", "--dir", str(files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert trace_id in listing.stdout
