"""Request latency during a collector outage, as a ratio of the healthy run.

Variants, each a real launch of ``benchmarks.server_app:app`` under
``opentelemetry-instrument`` with otel-distro, all running at once:

* ``healthy``    - exports to a local sink that acknowledges every request;
* ``refused``    - the endpoint's port has nothing listening (connection refused);
* ``black-hole`` - a listener that accepts connections and never answers.

A sequential keep-alive client sends the same requests to each, in interleaved
rounds (drift in machine load hits them alike); the result is each variant's p50 and
p99 request latency over all rounds and the ratio of its p99 to the healthy p99.
Export runs in background threads into bounded queues, so the ratios stay near 1.
Short export intervals make the outage variants fail (and retry) all the time.
Run: ``python -m benchmarks.bench_outage``.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from examples.panel.runner import free_port, launch_app

REQUESTS = 1000
WARMUP = 200
ROUNDS = 5
EXPORT = {
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "OTEL_BLRP_SCHEDULE_DELAY": "200",
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
    "ENVIRONMENT": "production",
}


class _Sink(BaseHTTPRequestHandler):
    """Acknowledges every export without reading it further."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def _black_hole() -> tuple[socket.socket, str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, f"http://127.0.0.1:{server.getsockname()[1]}"


def _latencies(client: httpx.Client, count: int) -> list[float]:
    samples = []
    for i in range(count):
        start = time.perf_counter()
        client.get(f"/items/{i}")
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


def main() -> None:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    hole, hole_endpoint = _black_hole()
    endpoints = {
        "healthy": f"http://127.0.0.1:{sink.server_address[1]}",
        "refused": f"http://127.0.0.1:{free_port()}",
        "black-hole": hole_endpoint,
    }
    samples: dict[str, list[float]] = {name: [] for name in endpoints}
    with ExitStack() as stack:
        clients = {}
        for name, endpoint in endpoints.items():
            app = stack.enter_context(
                launch_app("benchmarks.server_app:app", EXPORT, otlp_endpoint=endpoint)
            )
            clients[name] = stack.enter_context(httpx.Client(base_url=app.base_url))
            _latencies(clients[name], WARMUP)
        for _ in range(ROUNDS):
            for name, client in clients.items():
                samples[name] += _latencies(client, REQUESTS)
    sink.shutdown()
    hole.close()
    healthy_p99 = _p(samples["healthy"], 99)
    print(f"{'variant':12} {'p50 us':>9} {'p99 us':>9} {'p99 vs healthy':>15}")
    for name, values in samples.items():
        p99 = _p(values, 99)
        print(f"{name:12} {_p(values, 50):9.0f} {p99:9.0f} {p99 / healthy_p99:14.2f}x")


if __name__ == "__main__":
    main()
