"""``python -m peer_suites [name ...]``: peer projects' own test suites, with and without us.

For structlog, Starlette and httpx (the versions installed in the project venv) it runs
the test suite from the project's source distribution twice, plainly and under
``opentelemetry-instrument`` with otel-distro, and compares the SETS of passing tests.
It fails when they differ by a test not listed in ``expected-differences.txt``; every
entry there is justified in ``docs/peer-suites.md``.  Entries that no longer differ are
reported (``--strict`` makes them fail too).  See ``docs/peer-suites.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from examples.otlp_capture import OtlpCapture
from peer_suites._run import confirmed, differences, run_both
from peer_suites._setup import WORK, Suite, ensure_source, ensure_venv

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected-differences.txt"
DOC = HERE.parent / "docs" / "peer-suites.md"

SUITES = {
    "structlog": Suite("structlog", "src", ("-p", "no:randomly")),
    "starlette": Suite("starlette", "starlette", ("-p", "no:asyncio")),
    "httpx": Suite("httpx", "httpx", ("-p", "no:asyncio", "-m", "not network"), parallel=False),
}


def expected_differences() -> dict[str, dict[str, str]]:
    """``suite -> {test id: reason}`` from the expected-differences file."""
    expected: dict[str, dict[str, str]] = {name: {} for name in SUITES}
    for number, line in enumerate(EXPECTED.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in SUITES:
            raise SystemExit(f"{EXPECTED.name}:{number}: want <suite> TAB <test id> TAB <reason>")
        expected[parts[0]][parts[1]] = parts[2]
    return expected


def check_documented(expected: dict[str, dict[str, str]]) -> list[str]:
    """Each reason of the expected list must be a section of the document."""
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    reasons = {reason for tests in expected.values() for reason in tests.values()}
    return sorted(reason for reason in reasons if f"`{reason}`" not in doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peer_suites")
    parser.add_argument("suites", nargs="*", help=f"some of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--strict", action="store_true", help="fail on stale expected entries")
    args = parser.parse_args(argv)
    names = args.suites or list(SUITES)
    unknown = sorted(set(names) - set(SUITES))
    if unknown:
        parser.error(f"unknown suites {unknown}; known: {', '.join(SUITES)}")
    expected = expected_differences()
    undocumented = check_documented(expected)
    if undocumented:
        print(f"peer-suites: reasons not explained in {DOC.name}: {undocumented}")
        return 1
    started = time.monotonic()
    ensure_venv()
    failed = False
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    with OtlpCapture() as capture:
        for name in names:
            suite = SUITES[name]
            ensure_source(suite)
            plain, instrumented = run_both(suite, capture.endpoint, logs=WORK / "logs")
            found = confirmed(suite, differences(plain, instrumented), capture.endpoint)
            listed = expected[name]
            unexpected = sorted(found - set(listed))
            stale = sorted(set(listed) - found)
            print(
                f"peer-suites: {name} {suite.version}: {len(plain.passed)} passed plainly "
                f"({plain.seconds:.0f} s), {len(instrumented.passed)} with otel-distro "
                f"({instrumented.seconds:.0f} s); {len(found)} differ, "
                f"{len(found) - len(unexpected)} of them expected"
            )
            for test in unexpected:
                how = "passes only with" if test in instrumented.passed else "fails with"
                print(f"  UNEXPECTED: {test} ({how} otel-distro)")
            for test in stale:
                print(f"  no longer differs: {test} [{listed[test]}]")
            failed = failed or bool(unexpected) or (args.strict and bool(stale))
    print(f"peer-suites: {'FAILED' if failed else 'ok'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
