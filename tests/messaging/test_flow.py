"""SSE broker flow: exact consumed/forwarded/dropped counts, backpressure episodes."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from tests.messaging.conftest import FakeClient, Flow, connect, settle


async def test_publish_without_subscribers_counts_consumed_only(flow: Flow) -> None:
    """A message nobody listens to is consumed once and offered to no one."""
    broker = flow.broker()
    assert broker.publish({"type": "site_created"}) == 0
    assert flow.messages() == {"consumed": 1}


async def test_every_subscriber_gets_the_message(flow: Flow) -> None:
    """publish() returns how many subscribers queued it; each counts once as forwarded."""
    broker = flow.broker()
    clients = [FakeClient(), FakeClient()]
    tasks = [await connect(broker, c) for c in clients]
    assert broker.publish({"site_id": 42}, event="site", id=7) == 2
    await settle()
    for client in clients:
        assert client.frames() == [b'event: site\nid: 7\ndata: {"site_id":42}']
    assert flow.messages() == {"consumed": 1, "forwarded": 2}
    for client in clients:
        client.gone.set()
    await asyncio.gather(*tasks)


async def test_a_stalled_subscriber_loses_only_its_own_messages(flow: Flow) -> None:
    """With one stalled and one fast subscriber, only the stalled one drops, exactly counted."""
    broker = flow.broker(queue_size=3)
    fast, stalled = FakeClient(), FakeClient()
    stalled.stall()
    tasks = [await connect(broker, fast), await connect(broker, stalled)]
    results = []
    for n in range(10):
        results.append(broker.publish(str(n)))
        await settle()
    # the stalled client's task holds message 0 in its blocked send; 1-3 wait in its queue
    assert results == [2, 2, 2, 2, 1, 1, 1, 1, 1, 1]
    assert fast.frames() == [f"data: {n}".encode() for n in range(10)]
    assert flow.messages() == {"consumed": 10, "forwarded": 14, "dropped": 6}
    stalled.release()
    await settle()
    assert stalled.frames() == [f"data: {n}".encode() for n in range(4)]
    fast.gone.set()
    stalled.gone.set()
    await asyncio.gather(*tasks)


async def test_one_backpressure_record_per_episode(flow: Flow) -> None:
    """A full queue starts one episode (one record, one counter increment), however many drops."""
    broker = flow.broker(queue_size=2)
    stalled = FakeClient()
    stalled.stall()
    task = await connect(broker, stalled)
    with capture_logs() as logs:
        for n in range(20):
            broker.publish(n)
            await settle()
    assert [e["event"] for e in logs] == ["sse_backpressure"]
    assert logs[0]["queue_size"] == 2
    assert sum(flow.points("otel_distro.sse.backpressure").values()) == 1
    stalled.gone.set()
    await task


async def test_an_episode_ends_when_the_queue_drains_below_half(flow: Flow) -> None:
    """After draining, a second fill is a second episode."""
    broker = flow.broker(queue_size=4)
    stalled = FakeClient()
    stalled.stall()
    task = await connect(broker, stalled)
    with capture_logs() as logs:
        for n in range(10):
            broker.publish(n)
            await settle()
        stalled.release()
        await settle()
        stalled.stall()
        for n in range(10):
            broker.publish(n)
            await settle()
    assert [e["event"] for e in logs].count("sse_backpressure") == 2
    assert sum(flow.points("otel_distro.sse.backpressure").values()) == 2
    stalled.gone.set()
    await task


async def test_queue_depth_is_recorded_per_subscriber_at_publish(flow: Flow) -> None:
    """The depth histogram gets one point per subscriber offered a message."""
    broker = flow.broker(queue_size=5)
    stalled = FakeClient()
    stalled.stall()
    task = await connect(broker, stalled)
    for n in range(4):
        broker.publish(n)
        await settle()
    (histogram,) = flow.points("otel_distro.sse.queue.depth").values()
    assert histogram.count == 4
    assert histogram.max == 2  # message 0 is in the blocked send, 1 and 2 queued before 3
    stalled.gone.set()
    await task


async def test_publish_from_another_thread_reaches_subscribers(flow: Flow) -> None:
    """publish() is safe off the event loop: the subscriber is woken on its own loop."""
    broker = flow.broker()
    client = FakeClient()
    task = await connect(broker, client)
    count = await asyncio.get_running_loop().run_in_executor(None, broker.publish, "hi")
    assert count == 1
    for _ in range(200):
        if client.frames():
            break
        await asyncio.sleep(0.01)
    assert client.frames() == [b"data: hi"]
    client.gone.set()
    await task
