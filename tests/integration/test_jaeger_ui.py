"""The local Jaeger's web UI assets, ``make screenshot`` and the demo's use of a running stack.

The real Jaeger UI is built from a jaeger-ui checkout (``build.sh jaeger-ui``), which
a fresh clone does not have; these tests give Jaeger a small stand-in UI instead: a
page that reads the trace from Jaeger's own API and draws one row per span, with the
class names of Jaeger's UI.  Everything else is real: the stack binaries, the demo,
Chromium.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from examples.demo import jaeger_ui, running_stack
from examples.panel.runner import REPO_ROOT, clean_environ, free_port
from tests.cli.browser import _chromium
from tests.integration.stack import Stack, require_stack_binaries, start_stack

pytestmark = pytest.mark.integration

STAND_IN_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stand-in trace UI</title></head>
<body><div id="rows"></div><script>
const id = location.pathname.split('/').pop();
fetch('/api/traces/' + id).then((r) => r.json()).then((body) => {
  const rows = document.getElementById('rows');
  for (const span of body.data[0].spans) {
    const row = document.createElement('div');
    row.className = 'span-row';
    const link = document.createElement('a');
    link.className = 'span-name';
    const name = document.createElement('small');
    name.className = 'endpoint-name';
    name.innerText = span.operationName;
    link.appendChild(name);
    row.appendChild(link);
    link.onclick = () => {
      const detail = document.createElement('div');
      detail.className = 'detail-row';
      detail.innerText = span.logs.length + ' log events';
      row.after(detail);
    };
    rows.appendChild(row);
  }
});
</script></body></html>
"""


@pytest.fixture
def ui_assets(tmp_path: Path) -> Path:
    folder = tmp_path / "jaeger-ui"
    folder.mkdir()
    (folder / "index.html").write_text(STAND_IN_UI)
    return folder


def test_the_stack_serves_the_ui_assets_it_is_given(
    ui_assets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JAEGER_UI_ASSETS reaches Jaeger's query server: its pages are the given UI, and
    the demo tells it from the placeholder page of a build without one."""
    monkeypatch.setenv("JAEGER_UI_ASSETS", str(ui_assets))
    stack = start_stack(tmp_path)
    try:
        page = httpx.get(f"{stack.jaeger_api}/trace/{'ab' * 16}", timeout=10).text
        assert "stand-in trace UI" in page
        assert jaeger_ui(stack.jaeger_api) == "ui"
        status = subprocess.run(
            ["bash", str(REPO_ROOT / "collector" / "scripts" / "stack.sh"), "status"],
            env=stack.env | {"JAEGER_UI_ASSETS": str(ui_assets)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert f"stack: Jaeger UI      {stack.jaeger_api}" in status.stderr, status.stderr
    finally:
        stack.stop()


def test_the_demo_finds_a_running_stack_by_its_env_file(otel_stack: Stack) -> None:
    """``make demo`` sends to the stack whose stack.env answers, not to a stale one."""
    env_file = otel_stack.run_dir / "stack.env"
    assert running_stack(env_file) == (otel_stack.otlp_http_endpoint, otel_stack.jaeger_api)
    stale = otel_stack.run_dir.parent / "stale.env"
    gone = f"http://127.0.0.1:{free_port()}"
    stale.write_text(f"OTEL_EXPORTER_OTLP_ENDPOINT={gone}\nJAEGER_API={gone}\n")
    assert running_stack(stale) is None
    assert running_stack(otel_stack.run_dir / "missing.env") is None


def test_make_screenshot_pictures_the_demo_trace_in_jaeger(ui_assets: Path, tmp_path: Path) -> None:
    """The whole path of ``make screenshot``: a private stack with the UI, the demo against
    it, every span in Jaeger, the page checked for every span name and a span opened,
    then the picture; the private stack is gone afterwards."""
    require_stack_binaries()
    _chromium()
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, "-m", "examples.screenshot", "-o", str(out), "--trace", "interesting"],
        cwd=REPO_ROOT,
        env=clean_environ({"JAEGER_UI_ASSETS": str(ui_assets)}),
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    match = re.search(r"^wrote .+: trace ([0-9a-f]{32}) \((\d+) spans: (.+)\)$", done.stdout, re.M)
    assert match, done.stdout
    assert int(match.group(2)) >= 3 and "POST /sites/{site_id}/charge" in match.group(3)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1400 and 400 <= height <= 860
    assert "stack: stopped jaeger" in done.stdout + done.stderr


def test_make_screenshot_without_ui_assets_says_how_to_get_them(tmp_path: Path) -> None:
    """No assets folder: exit 1 before anything starts, naming both ways to provide one."""
    done = subprocess.run(
        [sys.executable, "-m", "examples.screenshot", "-o", str(tmp_path / "x.png")],
        cwd=REPO_ROOT,
        env=clean_environ({"JAEGER_UI_ASSETS": str(tmp_path / "nothing-here")}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "holds no index.html" in done.stderr
    assert not (tmp_path / "x.png").exists()
