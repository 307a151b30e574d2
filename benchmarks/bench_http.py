"""Per-request cost and tail latency through real uvicorn launches under load, in one session.

Run: ``python -m benchmarks.bench_http [--quick] [--peers] [--ref REV]... [--rounds N]
[--seconds S] [--out DIR] [--no-chart]`` (``make bench`` runs it; ``make bench PEERS=1``
adds the peer distributions, ``make bench REFS="REV ..."`` earlier revisions of otel-distro).

Variants (see ``benchmarks/_http_variants.py``), all running at once, each
``benchmarks.server_app:app`` (FastAPI, one structlog call per request) under
uvicorn with one worker:

* ``bare``         -- uninstrumented uvicorn;
* ``stock-traces`` -- ``opentelemetry-instrument`` with the stock distro/configurator
                      (what ``opentelemetry-distro`` registers), traces only;
* ``stock-all``    -- the same with traces, logs and metrics;
* ``otel-distro``  -- ours: traces, logs, metrics, redaction, baggage, access log;
* with ``--peers`` (or ``PEERS=1``): Elastic EDOT, Splunk and AWS ADOT Python, each
  with its own defaults in its own venv;
* with ``--ref REV`` (or ``REFS="REV ..."``): ``otel-distro@<sha>``, this repository at
  that revision installed in its own venv, run exactly like ``otel-distro``
  (``benchmarks/_http_refs.py``), to compare revisions in one session.

Load comes from ``wrk`` (a second process) with 16 connections, in interleaved
rounds (each round visits every variant, in a rotated order, so drift in machine
load hits them alike); each figure is the median over rounds.  ``added ms/req`` is
``1000/rps - 1000/rps(bare)``: the server-side time each request adds at saturation;
``vs stock`` is that as a multiple of stock traces-only's.  Peak RSS is the sum of
``VmHWM`` over the server's process tree.  Every instrumented variant exports over
OTLP/HTTP to one sink process that decodes and counts what it receives
(``benchmarks/otlp_sink.py``); after the servers are stopped with SIGINT (a normal
exit, so every SDK flushes) the server spans and route log records received are
checked against the number of requests the route served (``/served``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks._http_refs import ref_variant
from benchmarks._http_report import paired_ratios, print_table, write_chart
from benchmarks._http_variants import Variant, contrib_server_variant, core_variants, peer_variants
from examples.panel.runner import REPO_ROOT, AppProcess, AppStartError, clean_environ, free_port

CONNECTIONS = 16
FULL = {"warmup": 3.0, "rounds": 5, "seconds": 8.0}
QUICK = {"warmup": 1.0, "rounds": 2, "seconds": 2.0}
RESULTS = REPO_ROOT / "benchmarks" / "results"
URL_PATH = "/items/42"
OURS = "otel-distro"


@dataclass
class Result:
    """What one variant measured; ``error`` replaces the figures when it could not run."""

    name: str
    label: str
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    sent: int = 0
    wrk_errors: int = 0
    served: int = 0
    rss_mb: float | None = None
    received: dict[str, int] = field(default_factory=dict)
    spans_expected: bool = False
    logs_expected: bool = False
    error: str | None = None
    dropped: str | None = None  # the server's own first message about dropping telemetry

    def median(self, values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    def proof(self) -> str:
        """``ok`` when every served request reached the sink as the expected telemetry."""
        if self.error:
            return "-"
        problems = []
        if self.spans_expected and self.received.get("server_spans", 0) != self.served:
            problems.append(f"spans {self.received.get('server_spans', 0)}/{self.served}")
        if self.logs_expected and self.received.get("app_logs", 0) != self.served:
            problems.append(f"logs {self.received.get('app_logs', 0)}/{self.served}")
        if not problems:
            return "ok"
        why = f" (server said: {self.dropped})" if self.dropped else ""
        return "MISSING " + ", ".join(problems) + why


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _latency(text: str, percent: str) -> float:
    match = re.search(rf"^\s*{percent}%\s+([0-9.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        raise ValueError(f"no {percent}% latency in wrk output:\n{text}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, seconds: float) -> dict[str, float]:
    """One wrk run: requests, req/s, p50/p99 in ms and non-2xx/socket errors."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench_http needs wrk (apt-get install wrk; .ci/install-deps.sh)")
    text = subprocess.run(
        [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    requests = re.search(r"^\s*(\d+) requests in", text, re.MULTILINE)
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if not requests or not rps:
        raise ValueError(f"unreadable wrk output:\n{text}")
    errors = sum(
        int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout):?\s*(\d+)", text)
    )
    return {
        "requests": int(requests.group(1)),
        "rps": float(rps.group(1)),
        "p50": _latency(text, "50"),
        "p99": _latency(text, "99"),
        "errors": errors,
    }


def _tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        with suppress(OSError):
            for task in Path(f"/proc/{pids[index]}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        index += 1
    return pids


def peak_rss_mb(pid: int) -> float:
    """Sum of ``VmHWM`` (peak resident set) over ``pid`` and its descendants, in MB."""
    total = 0
    for member in _tree(pid):
        with suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def _start_sink() -> tuple[subprocess.Popen[str], str]:
    sink = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.otlp_sink"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=clean_environ({"PYTHONPATH": str(REPO_ROOT)}),
    )
    assert sink.stdout is not None
    line = sink.stdout.readline().split()
    if len(line) != 2 or line[0] != "port":
        sink.kill()
        raise SystemExit(f"the OTLP sink did not start: {line}")
    return sink, f"http://127.0.0.1:{line[1]}"


def _launch(variant: Variant, endpoint: str, workdir: Path) -> AppProcess:
    folder = workdir / variant.name
    folder.mkdir(parents=True)
    env = clean_environ(
        {
            "OTEL_SERVICE_NAME": f"bench-{variant.name}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "ENVIRONMENT": "production",
            **variant.env,
        }
    )
    env["PYTHONPATH"] = os.pathsep.join(variant.python_path(folder))
    for attempt in range(3):
        port = free_port()
        app = AppProcess(port=port, workdir=folder, env=env, command=variant.command(port))
        try:
            app.start(startup_timeout=120.0)
            return app
        except AppStartError as exc:
            if attempt == 2 or "address already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


def _served(app: AppProcess) -> int:
    return int(httpx.get(f"{app.base_url}/served", timeout=10).json()["served"])


def _stop(app: AppProcess) -> None:
    import signal

    app.stop(timeout=60.0, sig=signal.SIGINT)


def _dropped(app: AppProcess) -> str | None:
    with suppress(OSError):
        for line in app.stderr_text().splitlines():
            if "dropping" in line.lower() or "dropped" in line.lower():
                return line.strip()[:120]
    return None


def _sink_counts(endpoint: str, settle: float = 2.0, limit: float = 30.0) -> dict[str, Any]:
    """The sink's counts once they have stopped changing for ``settle`` seconds."""
    deadline = time.monotonic() + limit
    last: dict[str, Any] = {}
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        counts = httpx.get(f"{endpoint}/counts", timeout=10).json()
        if counts != last:
            last, stable_since = counts, time.monotonic()
        elif time.monotonic() - stable_since >= settle:
            break
        time.sleep(0.25)
    return last


def run_session(
    variants: list[Variant], plan: dict[str, float], logs: Path | None = None
) -> tuple[list[Result], dict[str, int]]:
    """Launch every variant, load them in interleaved rounds, stop them, collect the counts."""
    results = {
        v.name: Result(v.name, v.label, spans_expected=v.spans, logs_expected=v.logs, error=v.error)
        for v in variants
    }
    sink, endpoint = _start_sink()
    apps: dict[str, AppProcess] = {}
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        if logs is not None:
            tmp = str(logs)
        try:
            runnable = [v for v in variants if v.error is None]
            with ThreadPoolExecutor(max_workers=len(runnable) or 1) as pool:
                futures = {v.name: pool.submit(_launch, v, endpoint, Path(tmp)) for v in runnable}
            for name, future in futures.items():
                try:
                    apps[name] = future.result()
                except AppStartError as exc:
                    results[name].error = "did not start: " + str(exc).splitlines()[0]
            for name, app in apps.items():
                results[name].sent += int(
                    run_wrk(app.base_url + URL_PATH, plan["warmup"])["requests"]
                )
            names = list(apps)
            for round_index in range(int(plan["rounds"])):
                shift = round_index % max(len(names), 1)
                for name in names[shift:] + names[:shift]:
                    run = run_wrk(apps[name].base_url + URL_PATH, plan["seconds"])
                    result = results[name]
                    result.rps.append(run["rps"])
                    result.p50_ms.append(run["p50"])
                    result.p99_ms.append(run["p99"])
                    result.sent += int(run["requests"])
                    result.wrk_errors += int(run["errors"])
                print(f"bench_http: round {round_index + 1}/{int(plan['rounds'])} done", flush=True)
            for name, app in apps.items():
                results[name].served = _served(app)
                results[name].rss_mb = peak_rss_mb(app.pid)
        finally:
            with ThreadPoolExecutor(max_workers=len(apps) or 1) as pool:
                list(pool.map(_stop, apps.values()))
            for name, app in apps.items():
                results[name].dropped = _dropped(app)
        try:
            counts = _sink_counts(endpoint)
        finally:
            sink.terminate()
            sink.wait(timeout=10)
    for result in results.values():
        result.received = counts.get(f"bench-{result.name}", {})
    return list(results.values()), counts.get("_sink", {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument("--peers", action="store_true", default=os.environ.get("PEERS") == "1")
    parser.add_argument(
        "--ref",
        action="append",
        default=os.environ.get("REFS", "").split(),
        metavar="REV",
        help="also measure otel-distro at this git revision (repeatable)",
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default: 5; quick: 2)")
    parser.add_argument("--seconds", type=float, help="per variant and round (default: 8)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where http.json/png go")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument("--logs", type=Path, help="keep each server's stdout/stderr here")
    parser.add_argument(
        "--contrib-server",
        action="store_true",
        help="also otel-distro with the contrib ASGI middleware (OTEL_DISTRO_SERVER_MIDDLEWARE)",
    )
    args = parser.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    if args.rounds:
        plan["rounds"] = args.rounds
    if args.seconds:
        plan["seconds"] = args.seconds
    variants = core_variants()
    ours = next(v for v in variants if v.name == OURS)
    variants += [ref_variant(rev, ours) for rev in args.ref]
    variants += [contrib_server_variant()] if args.contrib_server else []
    variants += peer_variants() if args.peers else []
    started = time.monotonic()
    results, sink = run_session(variants, plan, args.logs)
    print_table(results, connections=CONNECTIONS, plan=plan)
    for line in paired_ratios(results, OURS):
        print(line)
    print(
        f"sink: {sink.get('requests', 0):,} export requests decoded, "
        f"{sink.get('errors', 0):,} undecodable"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "http.json").write_text(
        json.dumps({"plan": plan, "sink": sink, "results": [asdict(r) for r in results]}, indent=2)
        + "\n"
    )
    if not args.no_chart:
        print(write_chart(results, args.out / "http.png"))
    print(f"bench_http: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
