"""Shutdown is bounded by OTEL_DISTRO_SHUTDOWN_TIMEOUT_SECONDS however the collector behaves.

Each test launches ``opentelemetry-instrument uvicorn`` with long batch delays (so
telemetry is still queued when the stop comes), stops it, and measures how long the
process took to go.  The bound is generous (the timeout plus the interpreter's own
start and stop on a loaded machine); without the distro's bound the SDK waits its
full OTLP timeout per signal and retries, 15 s or more.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.integration.misbehaving_collector import BlackHole, SlowCollector
from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration

TIMEOUT = 2.0
SLACK = 6.0  # interpreter teardown, uvicorn's graceful stop, a busy machine
QUEUED = {
    "OTEL_BSP_SCHEDULE_DELAY": "60000",
    "OTEL_BLRP_SCHEDULE_DELAY": "60000",
    "OTEL_METRIC_EXPORT_INTERVAL": "60000",
    "OTEL_DISTRO_SHUTDOWN_TIMEOUT_SECONDS": str(TIMEOUT),
}
# What uvicorn itself ends with (compared against the uninstrumented app below).
UVICORN_STATUS = {signal.SIGTERM: -signal.SIGTERM, signal.SIGINT: 0}
LEFT = re.compile(r"otel-distro: shutdown: .*could not be flushed to .*")


def closed_port_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def collector(kind: str) -> Iterator[str]:
    """The endpoint of a collector that is ``down``, ``black-hole`` or ``slow``."""
    if kind == "down":
        yield closed_port_endpoint()
    elif kind == "black-hole":
        with BlackHole() as hole:
            yield hole.endpoint
    else:
        with SlowCollector(delay=30.0) as slow:
            yield slow.endpoint


def stop_and_time(app: object, sig: signal.Signals) -> tuple[int | None, float]:
    started = time.monotonic()
    code = app.stop(timeout=30.0, sig=sig)  # type: ignore[attr-defined]
    return code, time.monotonic() - started


@pytest.mark.parametrize("kind", ["down", "black-hole", "slow"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_is_bounded_whatever_the_collector_does(kind: str, sig: signal.Signals) -> None:
    """The process is gone within the timeout (plus slack) and says once what it could not send."""
    with collector(kind) as endpoint:
        env = {**QUEUED, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        with launch_app(env=env) as app:
            client = app.client()
            for n in range(20):
                assert client.post("/echo-log", json={"n": n}).status_code == 200
            code, took = stop_and_time(app, sig)
            stderr = app.stderr_text()
    assert took < TIMEOUT + SLACK, f"took {took:.1f}s\n{stderr}"
    assert len(LEFT.findall(stderr)) == 1, stderr
    assert "spans" in LEFT.findall(stderr)[0], stderr
    assert "Transient error" not in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert code == UVICORN_STATUS[sig], stderr


def test_nothing_is_said_when_everything_was_flushed(otlp_capture: OtlpCapture) -> None:
    """With a healthy collector the queued telemetry leaves at the stop, and no line is printed."""
    with launch_app(capture=otlp_capture, env=QUEUED) as app:
        trace_id = app.client().post("/echo-log", json={"n": 1}).headers["x-request-id"]
        code, _took = stop_and_time(app, signal.SIGTERM)
        stderr = app.stderr_text()
    assert otlp_capture.spans(trace_id=trace_id, kind="SERVER"), stderr
    assert not LEFT.findall(stderr), stderr
    assert code == -signal.SIGTERM


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_exit_status_is_the_apps_own(sig: signal.Signals) -> None:
    """A stop by ``sig`` ends the instrumented app with the uninstrumented app's status."""
    statuses = []
    for instrument in (False, True):
        with launch_app(env=QUEUED, instrument=instrument) as app:
            app.client().get("/health")
            statuses.append(app.stop(sig=sig))
    assert statuses[0] == statuses[1] == UVICORN_STATUS[sig]
