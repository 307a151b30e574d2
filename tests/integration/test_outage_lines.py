"""Collector outages are said once (and once more when they end), never per batch.

Real launches of ``opentelemetry-instrument uvicorn`` exporting to an
:class:`OtlpCapture` that is absent, then started (or stopped, then restarted) on
the same port: telemetry flows again without a restart of the app, and the losses
are counted in ``otel_distro.export.dropped``.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration

SDK_NOISE = ("Transient error", "Failed to export", "Queue full", "Exception while exporting")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keep_requesting(client: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        assert client.post("/echo-log", json={"n": n}).status_code == 200  # type: ignore[attr-defined]
        n += 1
        time.sleep(0.02)


def distro_lines(stderr: str, pattern: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(pattern, line)]


def test_endpoint_down_at_startup_then_back() -> None:
    """Down at startup: one line naming it; when it answers, data flows and one line says so.

    A short OTLP timeout makes batches fail during the outage: they are counted.
    """
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    with launch_app(env=env) as app:
        client = app.client()
        keep_requesting(client, 3.0)
        with OtlpCapture(port=port) as capture:
            keep_requesting(client, 1.0)
            capture.wait_for(lambda: capture.spans(kind="SERVER"), timeout=30.0)
            deadline = time.monotonic() + 20
            while "recovered" not in app.stderr_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            stderr = app.stderr_text()
            dropped = capture.wait_for(
                lambda: [
                    point
                    for point in capture.metrics(name="otel_distro.export.dropped")
                    if point.attributes.get("signal") == "spans" and (point.value or 0) > 0
                ],
                timeout=20.0,
            )
        app.stop()
    down = distro_lines(stderr, rf"otel-distro: the OTLP endpoint {endpoint} does not answer")
    assert len(down) == 1, stderr
    assert "connection refused" in down[0] and "queue bounds" in down[0], down
    recovered = distro_lines(stderr, rf"otel-distro: export to {endpoint} recovered after")
    assert len(recovered) == 1, stderr
    assert not [line for line in stderr.splitlines() if line.startswith("otel-distro: cannot")]
    assert not [word for word in SDK_NOISE if word in stderr], stderr
    assert dropped, "the spans lost during the outage are counted"
    assert re.search(r"\d+ spans?.* lost during the outage", recovered[0]), recovered


def test_outage_after_startup_is_one_line_then_one_recovery() -> None:
    """A collector that answers 503 for a while costs one line each way, not one per batch."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    with OtlpCapture(port=port) as capture, launch_app(env=env) as app:
        client = app.client()
        client.get("/health")
        capture.wait_for(lambda: capture.spans(kind="SERVER"), timeout=20.0)
        capture.status_code = 503
        keep_requesting(client, 4.0)
        capture.status_code = 200
        before = len(capture.spans(kind="SERVER"))
        keep_requesting(client, 1.0)
        capture.wait_for(lambda: len(capture.spans(kind="SERVER")) > before, timeout=30.0)
        deadline = time.monotonic() + 20
        while "recovered" not in app.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        stderr = app.stderr_text()
        app.stop()
    assert "does not answer" not in stderr, stderr
    cannot = distro_lines(stderr, rf"otel-distro: cannot export to {endpoint} ")
    assert len(cannot) == 1, stderr
    assert "HTTP 503" in cannot[0] and "queue bounds" in cannot[0], cannot
    assert len(distro_lines(stderr, rf"otel-distro: export to {endpoint} recovered")) == 1, stderr
    assert not [word for word in SDK_NOISE if word in stderr], stderr
