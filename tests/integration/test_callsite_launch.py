"""Real ``opentelemetry-instrument python script`` launches: call sites (structlog's
``CallsiteParameterAdder``, logging's ``%(funcName)s``/``%(lineno)d``/...) name the
script's own lines with the distro loaded, as they do without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import OtlpCapture
from tests.support.launch import run_script

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).with_name("callsite_script.py")
CASES = ("native", "over_stdlib", "foreign", "host_formatter")


def run(workdir: Path, capture: OtlpCapture | None) -> dict[str, Any]:
    """The script's results, under opentelemetry-instrument when *capture* is given."""
    done = run_script(SCRIPT, [], service="callsite", workdir=workdir, capture=capture)
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads((workdir / "callsite.json").read_text())
    return results


def test_call_sites_are_the_scripts_lines(otlp_capture: OtlpCapture, tmp_path: Path) -> None:
    """Every case renders the calling line's parameters, with and without the distro, and
    the distro exported the records (so its wrappers were on the path)."""
    plain = run(tmp_path / "plain", None)
    ours = run(tmp_path / "ours", otlp_capture)
    for case in CASES:
        assert plain[case]["got"] == plain[case]["want"], case
        assert ours[case]["got"] == ours[case]["want"], case
        assert len(ours[case]["want"]) == len(plain[case]["want"]) > 0
    bodies = {"native", "over stdlib", "from a helper", "host record", "failed"}
    otlp_capture.wait_for(
        lambda: bodies <= {log.body for log in otlp_capture.logs()},
        message="the script's records",
    )
    failed = [log for log in otlp_capture.logs() if log.body == "failed"]
    assert failed[0].attributes["exception.type"] == "RuntimeError"
