"""What the broker and the aio-pika tracing write into telemetry: spans, links, safe values."""

from __future__ import annotations

import secrets
import string
from types import SimpleNamespace

import pytest

from otel_distro.messaging import encode_event
from otel_distro.messaging._aio_pika import consumer_attributes, publish_attributes
from otel_distro.messaging._metrics import MAX_STREAMS, OTHER_STREAM, stream_label
from tests.messaging.conftest import FakeClient, Flow, connect, settle


def _token() -> str:
    return "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))


async def test_a_traced_publish_is_one_forward_span_linked_to_subscribers(flow: Flow) -> None:
    """Inside a trace, a fan-out is one child span linked to each subscriber's request span."""
    broker = flow.broker()
    tracer = flow.tracers.get_tracer("test")
    client = FakeClient()
    with tracer.start_as_current_span("GET /events") as stream_span:
        task = await connect(broker, client)
    with tracer.start_as_current_span("POST /sites") as request:
        broker.publish("x")
    await settle()
    (forward,) = [s for s in flow.spans.get_finished_spans() if s.name.startswith("sse forward")]
    assert (
        forward.parent is not None and forward.parent.span_id == request.get_span_context().span_id
    )
    assert [link.context.span_id for link in forward.links] == [
        stream_span.get_span_context().span_id
    ]
    assert forward.attributes["otel_distro.sse.forwarded"] == 1
    client.gone.set()
    await task


async def test_no_forward_span_outside_a_trace(flow: Flow) -> None:
    """A publish with no active span starts no trace of its own."""
    broker = flow.broker()
    client = FakeClient()
    task = await connect(broker, client)
    broker.publish("x")
    assert flow.spans.get_finished_spans() == ()
    client.gone.set()
    await task


async def test_backpressure_is_an_event_on_the_subscribers_span(flow: Flow) -> None:
    """The episode shows on the stalled stream's request span, once."""
    broker = flow.broker(queue_size=1)
    tracer = flow.tracers.get_tracer("test")
    client = FakeClient()
    client.stall()
    span = tracer.start_span("GET /events")
    from opentelemetry import trace

    with trace.use_span(span):
        task = await connect(broker, client)
    for n in range(6):
        broker.publish(n)
        await settle()
    client.gone.set()
    await task
    span.end()
    assert [e.name for e in span.events] == ["sse_backpressure"]


def test_event_and_id_cannot_inject_fields() -> None:
    """CR/LF in an event name or id cannot forge a field; multi-line data stays data."""
    frame = encode_event("a\nevent: evil\r\nb", event="x\ndata: forged", id="1\r\n2")
    assert frame == b"event: xdata: forged\nid: 12\ndata: a\ndata: event: evil\ndata: b\n\n"


def test_stream_names_are_bounded() -> None:
    """Past MAX_STREAMS distinct names, new streams share one attribute value."""
    from otel_distro.messaging._metrics import reset_stream_labels

    reset_stream_labels()
    try:
        labels = {stream_label(f"stream-{n}") for n in range(MAX_STREAMS + 10)}
        assert len(labels) == MAX_STREAMS + 1
        assert OTHER_STREAM in labels
    finally:
        reset_stream_labels()


def test_a_secret_stream_name_is_redacted() -> None:
    """The stream attribute is redacted before any instrument sees it."""
    from otel_distro.messaging._metrics import reset_stream_labels

    reset_stream_labels()
    token = _token()
    try:
        assert token not in stream_label(f"events.{token}")
    finally:
        reset_stream_labels()


def _message(**fields: object) -> SimpleNamespace:
    values: dict[str, object] = {
        "message_id": None,
        "correlation_id": None,
        "body": b"{}",
        "exchange": "",
        "routing_key": "",
    }
    values.update(fields)
    return SimpleNamespace(**values)


def test_publish_attributes_follow_semconv_and_redact_the_routing_key() -> None:
    """Destination is exchange:routing key, with the secret in the key redacted everywhere."""
    token = _token()
    attributes = publish_attributes(
        "sites", f"site.created.{token}", _message(message_id="m-1", correlation_id="c-1"), None
    )
    assert attributes["messaging.system"] == "rabbitmq"
    assert attributes["messaging.operation.type"] == "send"
    assert attributes["messaging.destination.name"].startswith("sites:site.created.")
    assert attributes["messaging.message.id"] == "m-1"
    assert attributes["messaging.message.conversation_id"] == "c-1"
    assert attributes["messaging.message.body.size"] == 2
    assert token not in repr(attributes)


@pytest.mark.parametrize(
    ("name", "exclusive"),
    [
        ("amq.gen-" + secrets.token_hex(8), False),  # named by the server
        ("amq_" + secrets.token_hex(16), False),  # named by aio-pika's robust queue
        ("session-" + secrets.token_hex(8), True),  # exclusive: one per connection
    ],
)
def test_consumer_attributes_name_a_temporary_queue_generically(name: str, exclusive: bool) -> None:
    """Generated and exclusive queues are not destination names: no unbounded values."""
    queue = SimpleNamespace(name=name, exclusive=exclusive, channel=None)
    attributes = consumer_attributes(_message(routing_key=name), queue)
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.destination.subscription.name"] == "(temporary)"
    assert attributes["messaging.destination.name"] == "(temporary)"


def test_consumer_attributes_keep_a_named_queue() -> None:
    """A durable named queue is the consumer's destination, after exchange and routing key."""
    queue = SimpleNamespace(name="site-updates", exclusive=False, channel=None)
    attributes = consumer_attributes(_message(exchange="sites", routing_key="site.created"), queue)
    assert attributes["messaging.destination.name"] == "sites:site.created:site-updates"
    assert attributes["messaging.destination.subscription.name"] == "site-updates"


def test_publishing_to_a_generated_queue_names_no_queue() -> None:
    """A publish straight to a generated queue (default exchange) has a bounded destination."""
    attributes = publish_attributes("", "amq_" + secrets.token_hex(16), _message(), None)
    assert attributes["messaging.destination.name"] == "(temporary)"
