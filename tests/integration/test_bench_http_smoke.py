"""``python -m benchmarks.bench_http --quick``: one table with every variant, the work proven.

No timing is asserted: the run must measure every variant, and the sink must have
decoded one server span (and, where exported, one route log record) per request the
route served, after a normal stop of each server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from examples.panel.runner import REPO_ROOT, clean_environ
from tests.support.ci import require

pytestmark = pytest.mark.integration

VARIANTS = ("bare", "stock-traces", "stock-all", "otel-distro")


def test_quick_run_measures_every_variant_and_the_sink_saw_every_request(
    tmp_path: Path,
) -> None:
    require(shutil.which("wrk"), "wrk is not installed (.ci/install-deps.sh)")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_http", "--quick", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        env=clean_environ({"PEERS": "0"}),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in table[2:]] == list(VARIANTS), result.stdout
    assert all(line.rstrip(" |").endswith("ok") for line in table[2:]), result.stdout

    report = json.loads((tmp_path / "http.json").read_text())
    by_name = {r["name"]: r for r in report["results"]}
    assert list(by_name) == list(VARIANTS)
    for name, measured in by_name.items():
        assert measured["error"] is None, (name, measured["error"])
        assert len(measured["rps"]) == report["plan"]["rounds"], name
        assert all(rps > 0 for rps in measured["rps"]), name
        assert measured["rss_mb"] > 0, name
        # wrk counts completed responses; the route also served the ones in flight at the end
        assert 0 < measured["sent"] <= measured["served"], name
        assert measured["wrk_errors"] == 0, name
    assert by_name["bare"]["received"] == {}
    for name in ("stock-traces", "stock-all", "otel-distro"):
        assert by_name[name]["received"]["server_spans"] == by_name[name]["served"], name
    assert by_name["stock-traces"]["received"].get("logs", 0) == 0
    for name in ("stock-all", "otel-distro"):
        assert by_name[name]["received"]["app_logs"] == by_name[name]["served"], name
    assert (tmp_path / "http.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# The last commit before the package was laid out by data path (the README's "before").
BEFORE_RESTRUCTURE = "fd61a33"


def test_a_ref_variant_runs_that_revision_like_ours_and_the_sink_saw_every_request(
    tmp_path: Path,
) -> None:
    require(shutil.which("wrk"), "wrk is not installed (.ci/install-deps.sh)")
    bench = [sys.executable, "-m", "benchmarks.bench_http", "--quick", "--no-chart"]
    result = subprocess.run(
        [*bench, "--rounds", "1", "--ref", BEFORE_RESTRUCTURE, "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        env=clean_environ({"PEERS": "0", "REFS": ""}),
        capture_output=True,
        text=True,
        timeout=900,  # the first run installs the revision's venv
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "http.json").read_text())
    by_name = {r["name"]: r for r in report["results"]}
    name = f"otel-distro@{BEFORE_RESTRUCTURE}"
    assert list(by_name) == [*VARIANTS, name]
    ref, ours = by_name[name], by_name["otel-distro"]
    assert ref["error"] is None, ref["error"]
    assert BEFORE_RESTRUCTURE in ref["label"]
    assert len(ref["rps"]) == 1 and ref["rps"][0] > 0
    assert 0 < ref["sent"] <= ref["served"]
    # the same telemetry per request as the current tree: a server span, the route's record
    assert ref["received"]["server_spans"] == ref["served"]
    assert ref["received"]["app_logs"] == ref["served"]
    assert ref["received"]["logs"] // ref["served"] == ours["received"]["logs"] // ours["served"]


def test_an_installed_revision_imports_only_a_copy_of_the_app(tmp_path: Path) -> None:
    from benchmarks._http_variants import Variant

    paths = Variant("otel-distro@x", "x", repo_on_path=False).python_path(tmp_path)
    assert paths == [str(tmp_path / "app")]
    assert str(REPO_ROOT) not in paths
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["benchmarks"]
    copied = tmp_path / "app" / "benchmarks" / "server_app.py"
    assert copied.read_text() == (REPO_ROOT / "benchmarks" / "server_app.py").read_text()
    ours = Variant("otel-distro", "ours").python_path(tmp_path / "ours")
    assert ours == [str(REPO_ROOT)]
