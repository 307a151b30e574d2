"""The distro's aio-pika tracing against a real RabbitMQ: links, baggage scope, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import propagate
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_distro import set_tenant
from otel_distro.config import load_settings
from otel_distro.processors.baggage import BaggageAttributesSpanProcessor
from otel_distro.propagation import TrustedBaggagePropagator
from tests.support.rabbitmq import Broker

pytestmark = pytest.mark.integration

try:
    import aio_pika
except ImportError:  # pragma: no cover - the rabbitmq extra is part of dev
    aio_pika = None


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    from otel_distro.messaging import AioPikaInstrumentor

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


async def round_trip(
    broker: Broker, provider: TracerProvider, callback: Any = None, **headers: Any
) -> list[Any]:
    """Publish one message inside a request span and consume it; the delivered headers."""
    seen: list[Any] = []
    done = asyncio.Event()

    async def on_message(message: Any) -> None:
        try:
            async with message.process(ignore_processed=True):
                seen.append(dict(message.headers))
                if callback is not None:
                    await callback(message)
        finally:
            done.set()

    connection = await aio_pika.connect_robust(broker.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("", exclusive=True)
        await queue.consume(on_message)
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("request"), set_tenant(tenant_id="t-1", user_id="u-1"):
            await channel.default_exchange.publish(
                aio_pika.Message(b"site created", headers=dict(headers), message_id="m-9"),
                routing_key=queue.name,
            )
        await asyncio.wait_for(done.wait(), 10)
        await asyncio.sleep(0.1)  # let the consumer span end
    return seen


def by_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.kind == kind]


async def test_consumer_span_is_child_of_and_linked_to_the_publish(
    broker: Broker, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """The consumer continues the publisher's trace through the headers and links to it."""
    provider, exporter = traced
    use_propagators()
    await round_trip(broker, provider)
    (producer,) = by_kind(exporter, SpanKind.PRODUCER)
    (consumer,) = by_kind(exporter, SpanKind.CONSUMER)
    assert consumer.context.trace_id == producer.context.trace_id
    assert consumer.parent is not None and consumer.parent.span_id == producer.context.span_id
    assert [link.context.span_id for link in consumer.links] == [producer.context.span_id]
    assert producer.name == "publish amq.default"
    assert producer.attributes["server.address"] == "127.0.0.1"
    assert producer.attributes["messaging.message.id"] == "m-9"
    assert consumer.attributes["messaging.message.body.size"] == len(b"site created")


async def test_baggage_rides_to_an_allowed_broker(
    broker: Broker, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """Loopback is an allowed destination: the tenant travels with traceparent."""
    provider, exporter = traced
    use_propagators()
    (headers,) = await round_trip(broker, provider)
    assert "traceparent" in headers
    assert sorted(str(headers["baggage"]).split(",")) == ["tenant.id=t-1", "user.id=u-1"]
    (producer,) = by_kind(exporter, SpanKind.PRODUCER)
    assert producer.attributes["tenant.id"] == "t-1"


async def test_no_baggage_to_a_broker_outside_the_allow_list(
    broker: Broker, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """With loopback not allowed, messages carry traceparent but no baggage."""
    provider, _ = traced
    use_propagators(OTEL_DISTRO_BAGGAGE_PROPAGATE_TO="*.internal")
    (headers,) = await round_trip(broker, provider)
    assert "traceparent" in headers
    assert "baggage" not in headers


async def test_a_forged_tenant_in_message_headers_is_dropped(
    broker: Broker, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """Baggage read from a message is untrusted: a forged tenant never reaches the consumer."""
    provider, exporter = traced
    use_propagators(OTEL_DISTRO_BAGGAGE_PROPAGATE_TO="*.internal")
    await round_trip(broker, provider, baggage="tenant.id=evil,plan=gold")
    (consumer,) = by_kind(exporter, SpanKind.CONSUMER)
    assert "tenant.id" not in (consumer.attributes or {})


async def test_a_failing_consumer_marks_its_span_and_keeps_its_exception(
    broker: Broker, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """The app's exception is recorded on the consumer span (its type, as raised)."""
    provider, exporter = traced
    use_propagators()
    raised: list[BaseException] = []

    async def fail(message: Any) -> None:
        error = RuntimeError("handler failed")
        raised.append(error)
        raise error

    await round_trip(broker, provider, callback=fail)
    (consumer,) = by_kind(exporter, SpanKind.CONSUMER)
    assert consumer.status.status_code is StatusCode.ERROR
    assert [e.name for e in consumer.events] == ["exception"]
    assert consumer.events[0].attributes["exception.type"] == "RuntimeError"
    assert len(raised) == 1


async def test_a_lost_connection_and_its_reconnect_are_counted(broker: Broker) -> None:
    """A consumer's connection closed by the broker is counted and logged, then its reconnect."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from structlog.testing import capture_logs

    from otel_distro.messaging import SSEBroker

    reader = InMemoryMetricReader()
    sse = SSEBroker("amqp-lifecycle", meter_provider=MeterProvider(metric_readers=[reader]))
    connection = await aio_pika.connect_robust(broker.url, reconnect_interval=0.5)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("", exclusive=True)
        with capture_logs() as logs:
            await sse.consume_from(queue)
            await asyncio.to_thread(broker.ctl, "close_all_connections", "test")
            for _ in range(300):
                if any(e["event"] == "amqp_connection_reconnected" for e in logs):
                    break
                await asyncio.sleep(0.1)
        await sse.aclose()
    events = [e["event"] for e in logs if e["event"].startswith("amqp_connection")]
    assert events[:2] == ["amqp_connection_closed", "amqp_connection_reconnected"]
    closed = next(e for e in logs if e["event"] == "amqp_connection_closed")
    assert closed["error"] is not None and "test" not in str(closed["error"])
    data = reader.get_metrics_data()
    counts = {
        point.attributes["otel_distro.amqp.connection.event"]: point.value
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "otel_distro.amqp.connection.events"
        for point in metric.data.data_points
    }
    assert counts["reconnected"] == 1
    assert counts["closed"] >= 1


@pytest.mark.parametrize("robust", [True, False])
async def test_a_normal_close_is_an_info_record_without_an_error(
    broker: Broker, robust: bool
) -> None:
    """Closing the consumer's connection at shutdown is no error (aio-pika hands the close
    callbacks CancelledError or ConnectionClosed): info, counted once as closed."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from structlog.testing import capture_logs

    from otel_distro.messaging import SSEBroker

    reader = InMemoryMetricReader()
    sse = SSEBroker("amqp-normal-close", meter_provider=MeterProvider(metric_readers=[reader]))
    connect = aio_pika.connect_robust if robust else aio_pika.connect
    with capture_logs() as logs:
        connection = await connect(broker.url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue("", exclusive=True)
            await sse.consume_from(queue)
            await sse.aclose()
        await asyncio.sleep(0.1)  # the close callbacks run on the loop
    (closed,) = [e for e in logs if e["event"] == "amqp_connection_closed"]
    assert closed["log_level"] == "info"
    assert "error" not in closed
    assert closed["stream"] == "amqp-normal-close"
    data = reader.get_metrics_data()
    counts = {
        point.attributes["otel_distro.amqp.connection.event"]: point.value
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "otel_distro.amqp.connection.events"
        for point in metric.data.data_points
    }
    assert counts == {"closed": 1}
