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
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import OtlpCapture, launch_app
from tests.support.rabbitmq import Broker

pytestmark = pytest.mark.integration

APP = "tests.integration.sse_app:app"


def _token() -> str:
    return "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))


class FastClient:
    """Reads an SSE stream on a thread, keeping every event frame."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.frames: list[bytes] = []
        self.keepalives = 0
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()
        assert self._connected.wait(15), "the SSE stream did not start"

    def _run(self, url: str, headers: dict[str, str]) -> None:
        buffer = b""
        timeout = httpx.Timeout(5.0, read=None)
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            self.headers = response.headers
            self._connected.set()
            for chunk in response.iter_raw():  # keep-alive comments wake it up when idle
                buffer += chunk
                *complete, buffer = buffer.split(b"\n\n")
                self.frames.extend(f for f in complete if f and not f.startswith(b":"))
                self.keepalives += chunk.count(b": keepalive\n\n")
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


def app_env(broker: Broker, **extra: str) -> dict[str, str]:
    return {
        "AMQP_URL": broker.url,
        "SSE_QUEUE_SIZE": "64",
        "OTEL_DISTRO_SSE_KEEPALIVE_SECONDS": "0.5",
        **extra,
    }


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


def test_stalled_and_fast_subscribers_exact_counts(
    broker: Broker, otlp_capture: OtlpCapture
) -> None:
    """The stalled client misses messages, the fast one gets all; every count is exact.

    The burst request returns while the stalled client still holds its stream: the
    publisher never waited for it.
    """
    count, size = 300, 48 * 1024
    with launch_app(APP, capture=otlp_capture, env=app_env(broker)) as app:
        http = app.client()
        stalled = stalled_client(app.port)
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="stalled subscriber")
        fast = FastClient(f"{app.base_url}/events")
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 2, what="fast subscriber")
        assert fast.headers["content-type"].startswith("text/event-stream")
        assert fast.headers["cache-control"] == "no-cache"

        burst = http.post("/publish", params={"count": count, "size": size}, timeout=60).json()
        wait_until(
            lambda: len(fast.events("burst")) == count, what="every message at the fast client"
        )
        stalled_got = count - burst["results"].count(2)  # messages only the fast one got
        assert burst["results"].count(1) == stalled_got > 0  # the stalled one missed some
        assert [e["n"] for e in fast.events("burst")] == list(range(count))

        stalled.close()
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="stalled released")
        fast.close()
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 0, what="fast released")

        dropped = count - (count - stalled_got)
        wait_until(
            lambda: (
                outcomes(otlp_capture)
                == {"consumed": count, "forwarded": 2 * count - dropped, "dropped": dropped}
            ),
            what=f"exact counts, got {outcomes(otlp_capture)}",
        )
        wait_until(
            lambda: (
                [int(p.value) for p in latest(otlp_capture, "otel_distro.sse.subscribers").values()]
                == [0]
            ),
            what="no subscriber left",
        )
        (episodes,) = latest(otlp_capture, "otel_distro.sse.backpressure").values()
        assert episodes.value == 1
        closed = wait_until(
            lambda: (
                len(records(otlp_capture, "sse_subscriber_closed")) == 2
                and records(otlp_capture, "sse_subscriber_closed")
            ),
            what="close records",
        )
        by_dropped = sorted(closed, key=lambda r: r.attributes["dropped"])
        assert by_dropped[0].attributes["dropped"] == 0
        assert by_dropped[1].attributes["dropped"] == dropped
        assert {r.attributes["reason"] for r in closed} == {"client_gone"}
        (pressure,) = records(otlp_capture, "sse_backpressure")
        assert pressure.trace_id == by_dropped[1].trace_id != ""
        marked = wait_until(
            lambda: [
                s
                for s in otlp_capture.spans(kind="SERVER")
                if any(e.name == "sse_backpressure" for e in s.events)
            ],
            what="the backpressure span event",
        )
        assert [s.trace_id for s in marked] == [pressure.trace_id]
        assert [e.name for e in marked[0].events].count("sse_backpressure") == 1
        app.stop()


def test_request_publish_consume_forward_is_one_trace(
    broker: Broker, otlp_capture: OtlpCapture
) -> None:
    """HTTP request -> publish -> consume -> SSE forward share a trace; no secret leaks."""
    routing_secret, header_secret = _token(), _token()
    with launch_app(APP, capture=otlp_capture, env=app_env(broker)) as app:
        http = app.client()
        fast = FastClient(f"{app.base_url}/events")
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="subscriber")
        http.post(
            "/amqp",
            params={"routing_key": f"site.created.{routing_secret}", "header": header_secret},
        ).raise_for_status()
        (event,) = wait_until(lambda: fast.events("site"), what="the forwarded message")
        assert event == {"type": "site_created", "site_id": 42}
        wait_until(lambda: fast.keepalives > 0, what="a keep-alive comment")
        fast.close()
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 0, what="released")

        def spans() -> dict[str, Any]:
            found = {
                "request": [s for s in otlp_capture.spans(kind="SERVER") if "/amqp" in s.name],
                "stream": [s for s in otlp_capture.spans(kind="SERVER") if "/events" in s.name],
                "publish": otlp_capture.spans(kind="PRODUCER"),
                "consume": otlp_capture.spans(kind="CONSUMER"),
                "forward": [s for s in otlp_capture.spans() if s.name.startswith("sse forward")],
            }
            return found if all(len(v) == 1 for v in found.values()) else {}

        found = wait_until(spans, what="request, publish, consume, forward and stream spans")
        request, stream = found["request"][0], found["stream"][0]
        publish, consume, forward = found["publish"][0], found["consume"][0], found["forward"][0]
        assert publish.trace_id == consume.trace_id == forward.trace_id == request.trace_id
        assert consume.parent_span_id == publish.span_id
        assert [link.span_id for link in consume.links] == [publish.span_id]
        assert forward.parent_span_id == consume.span_id
        assert [(link.trace_id, link.span_id) for link in forward.links] == [
            (stream.trace_id, stream.span_id)
        ]
        assert publish.name == "publish site-events"
        assert publish.attributes["messaging.system"] == "rabbitmq"
        assert publish.attributes["messaging.operation.type"] == "send"
        assert publish.attributes["messaging.destination.name"].startswith("site-events:site.")
        assert publish.attributes["messaging.message.id"] == "m-1"
        assert publish.attributes["messaging.message.conversation_id"] == "conv-1"
        assert publish.attributes["messaging.message.body.size"] == 36
        assert consume.attributes["messaging.operation.type"] == "process"
        assert consume.attributes["messaging.rabbitmq.destination.routing_key"].startswith(
            "site.created."
        )
        app.stop()
        output = app.stdout_text() + app.stderr_text()
    wire = otlp_capture.raw_bytes()
    for secret in (routing_secret, header_secret):
        assert secret.encode() not in wire
        assert secret not in output


def test_demo_app_streams_created_sites_through_rabbitmq(
    broker: Broker, otlp_capture: OtlpCapture
) -> None:
    """The panel demo publishes on site creation; its consumer forwards to SSE subscribers."""
    from examples.panel.tokens import make_token

    env = {"PANEL_AMQP_URL": broker.url, "OTEL_DISTRO_SSE_KEEPALIVE_SECONDS": "0.5"}
    with launch_app(capture=otlp_capture, env=env) as app:
        token = make_token("u-1", "t-1")
        headers = {"Authorization": f"Bearer {token}"}
        denied = app.client().get("/events")
        assert denied.status_code == 401
        fast = FastClient(f"{app.base_url}/events", headers=headers)
        created = app.client().post(
            "/sites", json={"name": "a", "domain": "a.example"}, headers=headers
        )
        (event,) = wait_until(lambda: fast.events("site"), what="the site event")
        assert event == {"type": "site_created", "site_id": created.json()["id"]}
        trace_id = created.headers["x-request-id"]
        wait_until(
            lambda: (
                {"PRODUCER", "CONSUMER", "INTERNAL"}
                <= {s.kind for s in otlp_capture.spans(trace_id=trace_id)}
            ),
            what="publish, consume and forward spans in the request's trace",
        )
        fast.close()
        app.stop()


def test_sigterm_with_open_streams_shuts_down_cleanly(
    broker: Broker, otlp_capture: OtlpCapture
) -> None:
    """An open SSE stream does not hold the server: SIGTERM ends it as server_shutdown."""
    with launch_app(APP, capture=otlp_capture, env=app_env(broker)) as app:
        http = app.client()
        fast = FastClient(f"{app.base_url}/events")
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="subscriber")
        http.post("/publish", params={"count": 3}).raise_for_status()
        wait_until(lambda: len(fast.events("burst")) == 3, what="the burst")
        returncode = app.stop(timeout=20)
        assert returncode != -9, app.output()  # not killed after the graceful bound
        fast._thread.join(10)
        assert not fast._thread.is_alive()  # the server completed the response
        (closed,) = wait_until(
            lambda: records(otlp_capture, "sse_subscriber_closed"), what="the close record"
        )
        assert closed.attributes["reason"] == "server_shutdown"


def test_disconnect_policy_cuts_a_stalled_client_under_uvicorn(
    broker: Broker, otlp_capture: OtlpCapture
) -> None:
    """With slow_subscriber=disconnect, the server drops a client that stopped reading."""
    env = app_env(
        broker,
        OTEL_DISTRO_SSE_SLOW_SUBSCRIBER="disconnect",
        OTEL_DISTRO_SSE_SLOW_SUBSCRIBER_SECONDS="0.5",
    )
    with launch_app(APP, capture=otlp_capture, env=env) as app:
        http = app.client()
        stalled = stalled_client(app.port)
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 1, what="subscriber")
        http.post("/publish", params={"count": 300, "size": 48 * 1024}, timeout=60)
        wait_until(lambda: http.get("/stats").json()["subscribers"] == 0, what="cut off")
        (closed,) = wait_until(
            lambda: records(otlp_capture, "sse_subscriber_closed"), what="the close record"
        )
        assert closed.attributes["reason"] == "slow_subscriber"
        assert closed.attributes["dropped"] > 0
        stalled.settimeout(10)
        while stalled.recv(1 << 20):  # the server closed its end: the stream ends
            pass
        stalled.close()
        app.stop()
