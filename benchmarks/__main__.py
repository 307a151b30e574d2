"""Run every benchmark in turn: ``python -m benchmarks`` (or ``make bench``)."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "bench_request",
    "bench_http",
    "bench_redaction",
    "bench_encoding",
    "bench_export_gil",
    "bench_logging",
    "bench_security",
    "bench_scaleout",
    "bench_http_client",
    "bench_messaging",
    "bench_signing",
    "bench_outage",
)


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        failed |= subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}"], check=False
        ).returncode
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
