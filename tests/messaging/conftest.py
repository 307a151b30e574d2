"""Fixtures for the SSE broker tests: in-memory metrics and spans, and fake ASGI clients."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.config import reset_settings
from otel_distro.messaging._metrics import reset_stream_labels


@dataclass
class Flow:
    """Metrics and spans recorded by brokers built with ``flow.broker(...)``."""

    reader: InMemoryMetricReader
    meters: MeterProvider
    spans: InMemorySpanExporter
    tracers: TracerProvider

    def broker(self, name: str = "events", queue_size: int = 100, **kwargs: Any) -> Any:
        from otel_distro.messaging import SSEBroker

        return SSEBroker(
            name, queue_size, meter_provider=self.meters, tracer_provider=self.tracers, **kwargs
        )

    def points(self, metric: str) -> dict[tuple[tuple[str, Any], ...], Any]:
        """Each data point of *metric*, keyed by its sorted attributes (value or histogram)."""
        data = self.reader.get_metrics_data()
        found: dict[tuple[tuple[str, Any], ...], Any] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name != metric:
                        continue
                    for point in m.data.data_points:
                        key = tuple(sorted((point.attributes or {}).items()))
                        found[key] = getattr(point, "value", point)
        return found

    def messages(self, stream: str = "events") -> dict[str, int]:
        """``otel_distro.sse.messages`` by outcome for one stream."""
        counts: dict[str, int] = {}
        for key, value in self.points("otel_distro.sse.messages").items():
            attributes = dict(key)
            if attributes["otel_distro.sse.stream"] == stream:
                counts[attributes["otel_distro.sse.outcome"]] = value
        return counts


@pytest.fixture
def flow(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flow]:
    for name in (
        "OTEL_DISTRO_SSE_KEEPALIVE_SECONDS",
        "OTEL_DISTRO_SSE_SLOW_SUBSCRIBER",
        "OTEL_DISTRO_SSE_SLOW_SUBSCRIBER_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    reset_stream_labels()
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    spans = InMemorySpanExporter()
    tracers = TracerProvider()
    tracers.add_span_processor(SimpleSpanProcessor(spans))
    yield Flow(reader, meters, spans, tracers)
    meters.shutdown()
    reset_settings()
    reset_stream_labels()


@dataclass
class FakeClient:
    """An ASGI client: records what is sent; ``stall()`` makes ``send`` wait until released."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    stalled_sends: int = 0

    def __post_init__(self) -> None:
        self.gate.set()

    def stall(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            if not self.gate.is_set():
                self.stalled_sends += 1
            await self.gate.wait()
        self.sent.append(message)

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    def frames(self) -> list[bytes]:
        return [f for f in self.body().split(b"\n\n") if f and not f.startswith(b":")]


SCOPE = {"type": "http", "method": "GET", "path": "/events", "headers": []}


async def settle(rounds: int = 20) -> None:
    """Let every ready task run a few times (no wall-clock waiting)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def connect(broker: Any, client: FakeClient) -> asyncio.Task[None]:
    """Start serving *client* and wait until it is subscribed."""
    before = broker.subscriber_count
    task = asyncio.ensure_future(broker(dict(SCOPE), client.receive, client.send))
    for _ in range(1000):
        if broker.subscriber_count > before:
            break
        await asyncio.sleep(0)
    await settle()
    return task
