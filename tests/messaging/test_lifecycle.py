"""SSE subscriber lifecycle: disconnects, shutdown, slow-subscriber policy, no leaks."""

from __future__ import annotations

import asyncio
import gc
import signal
import weakref

from structlog.testing import capture_logs

from otel_distro.messaging._subscriber import Subscriber
from tests.messaging.conftest import SCOPE, FakeClient, Flow, connect, settle


def _closed(flow: Flow) -> dict[str, int]:
    return {
        dict(k)["otel_distro.sse.close_reason"]: v
        for k, v in flow.points("otel_distro.sse.connections").items()
    }


async def test_a_disconnect_releases_the_subscriber(flow: Flow) -> None:
    """http.disconnect ends the stream: the subscriber is gone and counted as client_gone."""
    broker = flow.broker()
    client = FakeClient()
    task = await connect(broker, client)
    assert sum(flow.points("otel_distro.sse.subscribers").values()) == 1
    client.gone.set()
    await task
    assert broker.subscriber_count == 0
    assert sum(flow.points("otel_distro.sse.subscribers").values()) == 0
    assert _closed(flow) == {"client_gone": 1}
    (duration,) = flow.points("otel_distro.sse.connection.duration").values()
    assert duration.count == 1


async def test_a_disconnect_is_seen_while_the_send_is_blocked(flow: Flow) -> None:
    """A client that stopped reading and then left is released although its send never returns."""
    broker = flow.broker(queue_size=2)
    client = FakeClient()
    client.stall()
    task = await connect(broker, client)
    for n in range(5):
        broker.publish(n)
    await settle()
    client.gone.set()
    await task
    assert broker.subscriber_count == 0
    assert _closed(flow) == {"client_gone": 1}


async def test_open_and_close_are_logged_with_reason_and_counts(flow: Flow) -> None:
    """The close record says why, how long, and how many messages were forwarded and dropped."""
    broker = flow.broker(queue_size=1)
    client = FakeClient()
    client.stall()
    with capture_logs() as logs:
        task = await connect(broker, client)
        for n in range(4):
            broker.publish(n)
            await settle()
        client.gone.set()
        await task
    events = [e["event"] for e in logs]
    assert events == ["sse_subscriber_opened", "sse_backpressure", "sse_subscriber_closed"]
    closed = logs[-1]
    assert closed["reason"] == "client_gone"
    assert (closed["forwarded"], closed["dropped"]) == (2, 2)
    assert closed["sent"] == 0  # its one send never returned
    assert closed["duration_s"] >= 0


async def test_close_ends_streams_as_server_shutdown(flow: Flow) -> None:
    """broker.close() flushes what is queued, completes the response and says server_shutdown."""
    broker = flow.broker()
    client = FakeClient()
    task = await connect(broker, client)
    broker.publish("last")
    broker.close()
    await task
    assert client.frames() == [b"data: last"]
    assert client.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert _closed(flow) == {"server_shutdown": 1}


async def test_disconnect_policy_closes_a_slow_subscriber(flow: Flow) -> None:
    """With slow_subscriber=disconnect, an episode past its limit ends that stream only."""
    broker = flow.broker(queue_size=2, slow_subscriber="disconnect", slow_subscriber_seconds=0)
    slow, fast = FakeClient(), FakeClient()
    slow.stall()
    tasks = [await connect(broker, slow), await connect(broker, fast)]
    for n in range(5):
        broker.publish(n)
        await settle()
    await tasks[0]
    assert broker.subscriber_count == 1
    assert _closed(flow) == {"slow_subscriber": 1}
    assert broker.publish("still here") == 1
    fast.gone.set()
    await tasks[1]


async def test_keepalive_comment_on_an_idle_stream(flow: Flow) -> None:
    """An idle stream gets ': keepalive' comments, which are not events."""
    broker = flow.broker(keepalive=0.01)
    client = FakeClient()
    task = await connect(broker, client)
    for _ in range(500):
        if b": keepalive\n\n" in client.body():
            break
        await asyncio.sleep(0.01)
    assert b": keepalive\n\n" in client.body()
    assert client.frames() == []
    client.gone.set()
    await task


async def test_response_start_has_event_stream_headers(flow: Flow) -> None:
    """The response starts 200 with text/event-stream and Cache-Control: no-cache."""
    broker = flow.broker()
    client = FakeClient()
    task = await connect(broker, client)
    start = client.sent[0]
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert headers[b"cache-control"] == b"no-cache"
    client.gone.set()
    await task


async def test_no_leak_after_ten_thousand_connect_disconnect_cycles(flow: Flow) -> None:
    """10,000 subscribe/disconnect cycles leave no subscriber, task or queue behind."""
    broker = flow.broker()
    refs: list[weakref.ref[Subscriber]] = []
    before = len(asyncio.all_tasks())
    original = broker._open

    def tracked_open() -> Subscriber:
        subscriber = original()
        refs.append(weakref.ref(subscriber))
        return subscriber

    broker._open = tracked_open
    with capture_logs():
        for _ in range(10_000):
            client = FakeClient()
            client.gone.set()
            await broker(dict(SCOPE), client.receive, client.send)
    await settle()
    gc.collect()
    assert broker.subscriber_count == 0
    assert len(asyncio.all_tasks()) == before
    assert sum(1 for ref in refs if ref() is not None) == 0
    assert sum(flow.points("otel_distro.sse.subscribers").values()) == 0
    assert _closed(flow) == {"client_gone": 10_000}


async def test_a_stop_signal_ends_streams_and_reaches_the_servers_handler(flow: Flow) -> None:
    """SIGTERM ends open streams as server_shutdown, then the server's own handler runs."""
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        broker = flow.broker()
        client = FakeClient()
        task = await connect(broker, client)
        signal.raise_signal(signal.SIGTERM)
        await asyncio.wait_for(task, 10)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]
    assert _closed(flow) == {"server_shutdown": 1}
    assert client.sent[-1]["more_body"] is False


async def test_a_failing_send_ends_only_that_stream_as_error(flow: Flow) -> None:
    """A send that raises (not a disconnect) closes that subscriber with reason error and the
    exception's type; publish() and the other subscribers never see it."""

    class Broken(FakeClient):
        async def send(self, message: dict[str, object]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                raise RuntimeError("the server's send failed")
            await super().send(message)

    broker = flow.broker()
    broken, fast = Broken(), FakeClient()
    with capture_logs() as logs:
        tasks = [await connect(broker, broken), await connect(broker, fast)]
        assert broker.publish("one") == 2
        await tasks[0]
        assert broker.publish("two") == 1
        await settle()
        fast.gone.set()
        await tasks[1]
    assert fast.frames() == [b"data: one", b"data: two"]
    assert _closed(flow) == {"error": 1, "client_gone": 1}
    closes = {e["reason"]: e for e in logs if e["event"] == "sse_subscriber_closed"}
    assert closes["error"]["log_level"] == "warning"
    assert closes["error"]["error.type"] == "RuntimeError"
    assert "error.type" not in closes["client_gone"]
    assert "the server's send failed" not in repr(logs)
