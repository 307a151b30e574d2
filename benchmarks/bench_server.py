"""Per-request cost through a real uvicorn under ``opentelemetry-instrument``, in one session.

Variants, each a real launch of ``benchmarks.server_app:app`` exporting all three
signals over OTLP/HTTP to a local sink that only acknowledges:

* ``bare``   - plain uvicorn, no instrumentation;
* ``stock``  - ``opentelemetry-instrument`` with the SDK's own configurator (what
  you get without a distro: three spans per request, stock export);
* ``distro`` - ``opentelemetry-instrument`` with otel-distro (one span per
  request, redaction and tenant processors, access log).

All variants run at once; a sequential keep-alive client sends the same requests
to each, in interleaved rounds; the result is the best round's mean microseconds per
request and the instrumentation overhead as a ratio of stock's.  Default export
intervals are used.  Run: ``python -m benchmarks.bench_server``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from examples.panel.runner import launch_app

REQUESTS = 1500
WARMUP = 300
ROUNDS = 6
DEFAULT_EXPORT = {
    "OTEL_BSP_SCHEDULE_DELAY": "5000",
    "OTEL_BLRP_SCHEDULE_DELAY": "1000",
    "OTEL_METRIC_EXPORT_INTERVAL": "60000",
    "ENVIRONMENT": "production",
}


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def _rate(client: httpx.Client, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        client.get(f"/items/{i}")
    return (time.perf_counter() - start) / count * 1e6


def _throughput(base_url: str, seconds: int = 5, connections: int = 8) -> float | None:
    """Requests per second at saturation, measured with wrk (None if wrk is missing)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", f"{base_url}/items/1"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(match.group(1)) if match else None


def main() -> None:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{sink.server_address[1]}"
    results: dict[str, float] = {}
    throughput: dict[str, float] = {}
    variants: dict[str, tuple[dict[str, str], dict[str, bool]]] = {
        "bare": ({}, {"instrument": False}),
        "stock": ({}, {"stock_sdk": True}),
        "distro": ({}, {}),
        "distro-no-access-log": ({"OTEL_DISTRO_ACCESS_LOG": "false"}, {}),
    }
    with ExitStack() as stack:
        clients = {}
        for name, (env, options) in variants.items():
            app = stack.enter_context(
                launch_app(
                    "benchmarks.server_app:app",
                    {**DEFAULT_EXPORT, **env},
                    otlp_endpoint=endpoint,
                    **options,
                )
            )
            clients[name] = stack.enter_context(httpx.Client(base_url=app.base_url))
            _rate(clients[name], WARMUP)
        # rounds interleave the variants, so drift in machine load hits them alike
        for _ in range(ROUNDS):
            for name, client in clients.items():
                value = _rate(client, REQUESTS)
                results[name] = min(results.get(name, value), value)
        for _ in range(2):
            for name, client in clients.items():
                rps = _throughput(str(client.base_url).rstrip("/"))
                if rps is not None:
                    throughput[name] = max(throughput.get(name, rps), rps)
    sink.shutdown()
    stock_overhead = results["stock"] - results["bare"]
    print(f"{'variant':22} {'us/request':>11} {'overhead':>9} {'vs stock':>9}")
    for name, value in results.items():
        overhead = value - results["bare"]
        ratio = f"{overhead / stock_overhead:8.2f}x" if name != "bare" else ""
        print(f"{name:22} {value:11.1f} {overhead:9.0f} {ratio:>9}")
    if throughput:
        print(f"\nsaturation (wrk, 8 connections): {'req/s':>8} {'vs stock':>9}")
        for name, rps in throughput.items():
            print(f"{name:22} {rps:18.0f} {rps / throughput['stock']:8.2f}x")
    else:
        print("\n(wrk not installed: saturation throughput skipped)")


if __name__ == "__main__":
    main()
