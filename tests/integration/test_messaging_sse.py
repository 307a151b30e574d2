"""RabbitMQ -> SSE through a real ``opentelemetry-instrument uvicorn`` and a real RabbitMQ node.

One fast SSE client reads everything; one stalled client connects and never reads
its socket again.  The app publishes a burst in-process and forwards messages
from a RabbitMQ queue; the counts, records and spans the app exports are asserted.
"""

from __future__ import annotations

import json
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support import OtlpCapture, launch_app
from tests.support.ci import require
from tests.support.rabbitmq import Broker, rabbitmq_broker

pytestmark = pytest.mark.integration

APP = "tests.integration.sse_app:app"


def _token() -> str:
    return "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    try:
        import aio_pika  # noqa: F401
    except ImportError:
        require(False, "aio-pika is not installed")
    with rabbitmq_broker() as running:
        yield running


class FastClient:
    """Reads an SSE stream on a thread, keeping every event frame."""

    def __init__(self, url: str) -> None:
        self.frames: list[bytes] = []
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()
        assert self._connected.wait(15), "the SSE stream did not start"

    def _run(self, url: str) -> None:
        buffer = b""
        with httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client:
            with client.stream("GET", url) as response:
                self.headers = response.headers
                self._connected.set()
                for chunk in response.iter_raw():
                    buffer += chunk
                    *complete, buffer = buffer.split(b"\n\n")
                    self.frames.extend(f for f in complete if f and not f.startswith(b":"))
                    if self._stop.is_set():
                        return

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for frame in list(self.frames):
            fields = dict(line.split(b": ", 1) for line in frame.split(b"\n") if b": " in line)
            if fields.get(b"event") == name.encode():
                found.append(json.loads(fields[b"data"]))
        return found

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


def stalled_client(port: int) -> socket.socket:
    """A client that asks for the stream and then never reads (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    return sock


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def latest(capture: OtlpCapture, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    """The last exported value of each attribute set of a cumulative metric."""
    points: dict[tuple[tuple[str, Any], ...], Any] = {}
    for point in capture.metrics(name=name):
        points[tuple(sorted(point.attributes.items()))] = point
    return points


def outcomes(capture: OtlpCapture) -> dict[str, int]:
    return {
        dict(key)["otel_distro.sse.outcome"]: int(point.value)
        for key, point in latest(capture, "otel_distro.sse.messages").items()
    }


def records(capture: OtlpCapture, event: str) -> list[Any]:
    return [r for r in capture.logs() if r.body == event or r.event_name == event]


def test_stalled_and_fast_subscribers_exact_counts(broker: Broker, otlp_capture: OtlpCapture) -> None:
    """The stalled client drops, the fast one gets everything, counts are exact, publish never waits."""
    count, size = 300, 48 * 1024
    env = {"AMQP_URL": broker.url, "SSE_QUEUE_SIZE": "64"}
    with launch_app(APP, capture=otlp_capture, env=env) as app:
        http = app.client()
        stalled = stalled_client(app.port)
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="stalled subscriber")
        fast = FastClient(f"{app.base_url}/events")
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 2, what="fast subscriber")
        assert fast.headers["content-type"].startswith("text/event-stream")
        assert fast.headers["cache-control"] == "no-cache"

        burst = http.post("/publish", params={"count": count, "size": size}, timeout=60).json()
        wait_until(lambda: len(fast.events("burst")) == count, what="every message at the fast client")
        stalled_got = count - burst["results"].count(2)  # messages only the fast one got
        assert burst["results"].count(1) == stalled_got > 0  # the stalled one missed some
        assert [e["n"] for e in fast.events("burst")] == list(range(count))

        stalled.close()
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="stalled released")
        fast.close()
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 0, what="fast released")

        dropped = count - (count - stalled_got)
        wait_until(
            lambda: outcomes(otlp_capture)
            == {"consumed": count, "forwarded": 2 * count - dropped, "dropped": dropped},
            what=f"exact counts, got {outcomes(otlp_capture)}",
        )
        wait_until(
            lambda: [int(p.value) for p in latest(otlp_capture, "otel_distro.sse.subscribers").values()]
            == [0],
            what="no subscriber left",
        )
        (episodes,) = latest(otlp_capture, "otel_distro.sse.backpressure").values()
        assert episodes.value == 1
        closed = wait_until(lambda: len(records(otlp_capture, "sse_subscriber_closed")) == 2 and
                            records(otlp_capture, "sse_subscriber_closed"), what="close records")
        by_dropped = sorted(closed, key=lambda r: r.attributes["dropped"])
        assert by_dropped[0].attributes["dropped"] == 0
        assert by_dropped[1].attributes["dropped"] == dropped
        assert {r.attributes["reason"] for r in closed} == {"client_gone"}
        (pressure,) = records(otlp_capture, "sse_backpressure")
        assert pressure.trace_id == by_dropped[1].trace_id != ""
        app.stop()
