"""aio-pika against a real RabbitMQ: baggage scope on publish, no trust on consume."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_distro import set_tenant
from otel_distro.config import load_settings
from otel_distro.processors.baggage import BaggageAttributesSpanProcessor
from otel_distro.propagation import TrustedBaggagePropagator
from tests.support.rabbitmq import Broker

pytestmark = pytest.mark.integration

aio_pika = pytest.importorskip("aio_pika")


@pytest.fixture
def instrumented() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BaggageAttributesSpanProcessor(("tenant.id", "user.id")))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    AioPikaInstrumentor().instrument(tracer_provider=provider)
    saved = propagate.get_global_textmap()
    try:
        yield provider, exporter
    finally:
        propagate.set_global_textmap(saved)
        AioPikaInstrumentor().uninstrument()


def use_propagators(**env: str) -> None:
    propagate.set_global_textmap(
        CompositePropagator(
            [TraceContextTextMapPropagator(), TrustedBaggagePropagator(load_settings(env))]
        )
    )


async def publish_and_get(broker: Broker, provider: TracerProvider, **headers: Any) -> Any:
    connection = await aio_pika.connect_robust(broker.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("", exclusive=True)
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("request"), set_tenant(tenant_id="t-1", user_id="u-1"):
            await channel.default_exchange.publish(
                aio_pika.Message(b"site created", headers=dict(headers)), routing_key=queue.name
            )
        for _ in range(50):
            message = await queue.get(fail=False)
            if message is not None:
                await message.ack()
                return message
            await asyncio.sleep(0.1)
    raise AssertionError("message not delivered")


async def test_baggage_rides_to_an_allowed_broker(
    broker: Broker, instrumented: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """The broker on loopback is internal: the tenant travels with traceparent."""
    provider, exporter = instrumented
    use_propagators()
    message = await publish_and_get(broker, provider)
    assert "traceparent" in message.headers
    assert sorted(str(message.headers["baggage"]).split(",")) == ["tenant.id=t-1", "user.id=u-1"]
    producer = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.PRODUCER]
    assert producer and producer[0].attributes["tenant.id"] == "t-1"


async def test_no_baggage_to_a_broker_outside_the_allow_list(
    broker: Broker, instrumented: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """With loopback not allowed, messages carry traceparent but no baggage."""
    provider, _ = instrumented
    use_propagators(OTEL_DISTRO_BAGGAGE_PROPAGATE_TO="*.internal")
    message = await publish_and_get(broker, provider)
    assert "traceparent" in message.headers
    assert "baggage" not in message.headers


async def test_consumer_drops_protected_baggage(
    broker: Broker, instrumented: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """A message's baggage header is untrusted: a forged tenant never reaches the consumer span."""
    _, exporter = instrumented
    use_propagators()
    connection = await aio_pika.connect_robust(broker.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("", exclusive=True)
        done = asyncio.Event()
        seen: list[Any] = []

        async def on_message(message: Any) -> None:
            async with message.process():
                seen.append(dict(message.headers))
                done.set()

        await queue.consume(on_message)
        await channel.default_exchange.publish(
            aio_pika.Message(b"x", headers={"baggage": "tenant.id=evil,plan=gold"}),
            routing_key=queue.name,
        )
        await asyncio.wait_for(done.wait(), 10)
    consumers = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CONSUMER]
    assert consumers
    assert all("tenant.id" not in (s.attributes or {}) for s in consumers)
