"""Per-message cost through an SSE broker to one subscriber, against a bare asyncio queue.

Run: ``python -m benchmarks.bench_messaging``.

* broker        -- ``SSEBroker.publish()`` (encode, count, depth histogram, queue) and
                   the subscriber's sending task, into a no-op ASGI ``send``, with an SDK
                   ``MeterProvider`` recording every instrument;
* in a trace    -- the same inside an active span (one forward span per message);
* bare queue    -- the baseline: pre-encoded bytes through an ``asyncio.Queue`` to a
                   task calling the same no-op ``send``.

Messages are published in batches of 50 between event-loop turns, as a burst would be.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from otel_distro.messaging import SSEBroker, encode_event

BATCH = 50
MESSAGES = 20_000
PAYLOAD = {"type": "site_created", "site_id": 42, "name": "example"}


async def _noop_send(message: Any) -> None:
    return None


async def _never_disconnect() -> Any:
    await asyncio.Event().wait()


async def _broker_run(traced: bool) -> float:
    tracers = TracerProvider()
    broker = SSEBroker(
        "bench",
        queue_size=BATCH * 2,
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        tracer_provider=tracers,
    )
    scope = {"type": "http", "path": "/events", "headers": []}
    task = asyncio.ensure_future(broker(scope, _never_disconnect, _noop_send))
    while not broker.subscriber_count:
        await asyncio.sleep(0)
    tracer = tracers.get_tracer("bench")
    start = time.perf_counter()
    for _ in range(MESSAGES // BATCH):
        if traced:
            with tracer.start_as_current_span("consume"):
                for _ in range(BATCH):
                    broker.publish(PAYLOAD, event="site")
        else:
            for _ in range(BATCH):
                broker.publish(PAYLOAD, event="site")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - start
    broker.close()
    await task
    return elapsed / MESSAGES * 1e6


async def _queue_run() -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=BATCH * 2)

    async def pump(send: Callable[[Any], Awaitable[None]]) -> None:
        while True:
            frame = await queue.get()
            await send({"type": "http.response.body", "body": frame, "more_body": True})

    task = asyncio.ensure_future(pump(_noop_send))
    start = time.perf_counter()
    for _ in range(MESSAGES // BATCH):
        for _ in range(BATCH):
            queue.put_nowait(encode_event(PAYLOAD, "site"))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - start
    task.cancel()
    return elapsed / MESSAGES * 1e6


def best(run: Callable[[], Awaitable[float]], repeat: int = 3) -> float:
    return min(asyncio.run(run()) for _ in range(repeat))  # type: ignore[arg-type]


def main() -> None:
    bare = best(_queue_run)
    broker = best(lambda: _broker_run(False))
    traced = best(lambda: _broker_run(True))
    print(f"bare asyncio.Queue (encode + queue + send): {bare:6.2f} us/message")
    print(
        f"SSE broker to one subscriber:                {broker:6.2f} us/message "
        f"({broker / bare:.1f}x)"
    )
    print(
        f"SSE broker, inside a trace (forward span):  {traced:6.2f} us/message "
        f"({traced / bare:.1f}x)"
    )


if __name__ == "__main__":
    main()
