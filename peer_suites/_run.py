"""Run one peer suite with and without the distro; the tests whose outcome differs.

Both runs use the same peer venv, source tree, environment and arguments; the only
difference is the ``opentelemetry-instrument`` launcher (which loads otel-distro,
exporting over OTLP to a local receiver).  A test whose pass/fail differs is run again
in both modes, on its own, so that a flaky test is not taken for a difference.  The two
modes run side by side, in two processes, unless the suite's servers use fixed ports.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from peer_suites._setup import INSTRUMENT, PEER_PYTHON, VENV, Suite

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
COMMON_ARGS = (
    "-q",
    "-p",
    "peer_outcomes",
    "-p",
    "no:cacheprovider",
    # loading any instrumentation imports anyio/httpx before pytest starts; pytest warns
    # that it cannot rewrite their asserts, and suites with filterwarnings=error abort
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)
SUITE_TIMEOUT = 900


@dataclass
class Outcome:
    """One run of a suite: each test's outcome and how long the run took."""

    outcomes: dict[str, str]
    seconds: float
    exitstatus: int

    @property
    def passed(self) -> set[str]:
        return {test for test, outcome in self.outcomes.items() if outcome == "passed"}


def environment(endpoint: str, suite: Suite) -> dict[str, str]:
    """A small, fixed environment: the peer venv first, OTLP to the local receiver."""
    env = {
        "PATH": f"{VENV / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(Path.home())),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(PLUGIN_DIR),
        "OTEL_SERVICE_NAME": f"peer-suite-{suite.name}",
        "ENVIRONMENT": "test",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
    }
    for name in ("CI", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_suite(
    suite: Suite,
    *,
    instrumented: bool,
    endpoint: str,
    tests: Sequence[str] = ("tests",),
    log: Path | None = None,
) -> Outcome:
    """Run the suite's pytest (optionally under ``opentelemetry-instrument``)."""
    with tempfile.TemporaryDirectory(prefix="peer-") as tmp:
        result_file = Path(tmp) / "outcomes.json"
        env = environment(endpoint, suite)
        env["PEER_OUTCOMES_FILE"] = str(result_file)
        launcher = [str(INSTRUMENT)] if instrumented else []
        command = [*launcher, str(PEER_PYTHON), "-m", "pytest", *COMMON_ARGS]
        command += [*suite.pytest_args, *tests]
        started = time.monotonic()
        with open(log or os.devnull, "w", encoding="utf-8") as out:
            subprocess.run(
                command,
                cwd=suite.source,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=SUITE_TIMEOUT,
                check=False,
            )
        seconds = time.monotonic() - started
        if not result_file.exists():
            where = f" (see {log})" if log else ""
            raise SystemExit(f"peer-suites: {suite.name}: pytest wrote no outcomes{where}")
        data = json.loads(result_file.read_text(encoding="utf-8"))
    return Outcome(dict(data["outcomes"]), seconds, int(data["exitstatus"]))


def run_both(
    suite: Suite,
    endpoint: str,
    tests: Sequence[str] = ("tests",),
    logs: Path | None = None,
) -> tuple[Outcome, Outcome]:
    """The plain and the instrumented run, side by side (two processes) if the suite allows."""
    with ThreadPoolExecutor(max_workers=2 if suite.parallel else 1) as pool:
        runs = [
            pool.submit(
                run_suite,
                suite,
                instrumented=instrumented,
                endpoint=endpoint,
                tests=tests,
                log=logs / f"{suite.name}.{'otel' if instrumented else 'plain'}.log"
                if logs
                else None,
            )
            for instrumented in (False, True)
        ]
        return runs[0].result(), runs[1].result()


def differences(plain: Outcome, instrumented: Outcome) -> set[str]:
    """Tests passing in exactly one of the two runs."""
    return plain.passed ^ instrumented.passed


def confirmed(suite: Suite, candidates: set[str], endpoint: str) -> set[str]:
    """The candidates that differ again when run on their own, in both modes."""
    if not candidates:
        return set()
    plain, instrumented = run_both(suite, endpoint, sorted(candidates))
    return candidates & differences(plain, instrumented)
