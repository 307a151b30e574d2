"""A collector outage: the app keeps serving, memory stays bounded, export resumes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_outage_costs_bounded_memory_and_no_failed_requests() -> None:
    """With nothing listening at the endpoint, every request succeeds and memory plateaus.

    The first 3,000 requests fill the bounded queues; the next 9,000 (about 45 MB of
    telemetry if it were kept) must grow the process by much less than that (the slack
    covers a log backlog on a busy machine, itself bounded).
    """
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}
    with launch_app(capture=None, env=env) as app:
        client = app.client()
        statuses = [client.post("/echo-log", json={"n": i}).status_code for i in range(3000)]
        filled = rss_bytes(app.pid)
        statuses += [client.post("/echo-log", json={"n": i}).status_code for i in range(9000)]
        after = rss_bytes(app.pid)
    assert statuses == [200] * 12000
    assert after - filled < 20 * 1024 * 1024, (filled, after)


def test_export_resumes_when_the_collector_comes_back(otlp_capture: OtlpCapture) -> None:
    """Exports failing with 503 are retried or dropped; later spans arrive once it recovers."""
    otlp_capture.status_code = 503
    with launch_app(capture=otlp_capture) as app:
        for _ in range(20):
            assert app.client().get("/upstream/echo-headers").status_code == 200
        otlp_capture.status_code = 200
        trace_id = app.client().get("/upstream/echo-headers").headers["x-request-id"]
        otlp_capture.wait_for(
            lambda: otlp_capture.spans(trace_id=trace_id), timeout=30, message="a later span"
        )
