"""aio-pika tracing: publish and consume spans linked across the broker.

``Exchange.publish`` gets a PRODUCER span whose context is injected into the
message headers (``traceparent`` always; baggage only toward brokers allowed by
``OTEL_DISTRO_BAGGAGE_PROPAGATE_TO``, decided by the propagator from the span's
``server.address``).  Each message handed to a ``Queue.consume`` callback gets a
CONSUMER span, child of the publisher's context from the headers and linked to
it; baggage read from a message is untrusted (protected keys are dropped by the
propagator).  Attributes follow the messaging semantic conventions; routing
keys, ids and names go through the redactor first.  Bodies are never recorded,
only their size.  ``Queue.iterator()`` consumes through its own callback, so its
CONSUMER spans cover the hand-over into the iterator, not the loop body.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, unwrap
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Link, SpanKind, Tracer

__all__ = ["AioPikaInstrumentor", "consumer_attributes", "publish_attributes"]

_SCOPE = "otel_distro.messaging.aio_pika"
_DEFAULT_EXCHANGE = "amq.default"
_TEMPORARY_QUEUE = "(temporary)"
_MAX_NAME = 255
#: Queue names made by the server (``amq.gen-...``) or by aio-pika's robust queues.
_GENERATED_QUEUE = re.compile(r"amq\.gen-|amq_[0-9a-f]{32}$")

#: Semantic-convention attributes of a span (texts and sizes).
Attributes = dict[str, str | int]
_Call = Callable[..., Awaitable[object]]
_Callback = Callable[["_Delivered"], Awaitable[object]]


class _Exchange(Protocol):
    """What a publish reads of aio-pika's ``Exchange``."""

    name: str | None
    channel: object


class _Delivered(Protocol):
    """What a consumer span reads of aio-pika's ``IncomingMessage``."""

    headers: Mapping[str, object] | None


class _HeaderGetter(Getter[Mapping[str, object]]):
    """Reads AMQP headers, whose string values may arrive as bytes."""

    def get(self, carrier: Mapping[str, object], key: str) -> list[str] | None:
        value = carrier.get(key)
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray)):
            return [bytes(value).decode("utf-8", "replace")]
        if isinstance(value, str):
            return [value]
        return None

    def keys(self, carrier: Mapping[str, object]) -> list[str]:
        return [str(key) for key in carrier]


_GETTER = _HeaderGetter()


def _redact(value: object, key: str) -> str:
    from otel_distro.redaction import get_redactor

    text = value if isinstance(value, str) else str(value)
    return str(get_redactor().redact_value(text[:_MAX_NAME], key=key))


def _server(channel: object) -> Attributes:
    connection = getattr(channel, "_connection", None) or getattr(channel, "connection", None)
    url = getattr(connection, "url", None)
    host = getattr(url, "host", None)
    if not host:
        return {}
    return {"server.address": str(host), "server.port": int(getattr(url, "port", None) or 5672)}


def _message_attributes(message: object) -> Attributes:
    attributes: Attributes = {}
    message_id = getattr(message, "message_id", None)
    if message_id:
        attributes["messaging.message.id"] = _redact(message_id, "messaging.message.id")
    correlation_id = getattr(message, "correlation_id", None)
    if correlation_id:
        attributes["messaging.message.conversation_id"] = _redact(
            correlation_id, "messaging.message.conversation_id"
        )
    body = getattr(message, "body", None)
    if isinstance(body, (bytes, bytearray, memoryview)):
        attributes["messaging.message.body.size"] = len(body)
    return attributes


def publish_attributes(
    exchange: str, routing_key: str, message: object, channel: object
) -> Attributes:
    """Semantic-convention attributes of a publish (names and ids redacted)."""
    exchange_name = _redact(exchange, "messaging.destination.name") if exchange else ""
    key = _redact(routing_key, "messaging.rabbitmq.destination.routing_key") if routing_key else ""
    attributes: Attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": ":".join(
            part
            for part in (exchange_name, _TEMPORARY_QUEUE if _GENERATED_QUEUE.match(key) else key)
            if part
        ),
    }
    if key:
        attributes["messaging.rabbitmq.destination.routing_key"] = key
    attributes.update(_message_attributes(message))
    attributes.update(_server(channel))
    return attributes


def _queue_label(queue: object) -> str:
    """The queue's name, or ``(temporary)`` for exclusive and generated names (unbounded)."""
    name = str(getattr(queue, "name", "") or "")
    if not name or getattr(queue, "exclusive", False) is True or _GENERATED_QUEUE.match(name):
        return _TEMPORARY_QUEUE
    return _redact(name, "messaging.destination.subscription.name")


def consumer_attributes(message: object, queue: object) -> Attributes:
    """Semantic-convention attributes of a delivered message (names and ids redacted)."""
    exchange = str(getattr(message, "exchange", "") or "")
    routing_key = str(getattr(message, "routing_key", "") or "")
    queue_name = _queue_label(queue)
    exchange_name = _redact(exchange, "messaging.destination.name") if exchange else ""
    key = _redact(routing_key, "messaging.rabbitmq.destination.routing_key") if routing_key else ""
    if queue_name == _TEMPORARY_QUEUE and routing_key == str(getattr(queue, "name", "")):
        destination = ":".join(part for part in (exchange_name, _TEMPORARY_QUEUE) if part)
    else:
        parts = [part for part in (exchange_name, key) if part]
        if queue_name != _TEMPORARY_QUEUE and queue_name != key:
            parts.append(queue_name)
        destination = ":".join(parts)
    attributes: Attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": destination,
        "messaging.destination.subscription.name": queue_name,
    }
    if key:
        attributes["messaging.rabbitmq.destination.routing_key"] = key
    attributes.update(_message_attributes(message))
    attributes.update(_server(getattr(queue, "channel", None)))
    return attributes


def _publish_wrapper(tracer: Tracer) -> _Call:
    async def publish(
        wrapped: _Call, instance: _Exchange, args: tuple[object, ...], kwargs: dict[str, object]
    ) -> object:
        if not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        try:
            message = args[0] if args else kwargs["message"]
            routing_key = args[1] if len(args) > 1 else kwargs.get("routing_key", "")
            attributes = publish_attributes(
                str(instance.name or ""), str(routing_key or ""), message, instance.channel
            )
            exchange = instance.name
            label = _redact(exchange, "messaging.destination.name") if exchange else ""
            name = f"publish {label or _DEFAULT_EXCHANGE}"
        except Exception:
            from otel_distro._report import internal_error

            internal_error("messaging.publish_span")
            return await wrapped(*args, **kwargs)
        with tracer.start_as_current_span(name, kind=SpanKind.PRODUCER, attributes=attributes):
            headers = getattr(message, "headers", None)
            if isinstance(headers, dict):
                propagate.inject(headers)
            return await wrapped(*args, **kwargs)

    return publish


def _traced_callback(tracer: Tracer, queue: object, callback: _Callback) -> _Callback:
    async def traced(message: _Delivered) -> object:
        if not is_instrumentation_enabled():
            return await callback(message)
        try:
            # read-only: a header table is never taken for an ASGI scope (its peer address)
            raw = message.headers
            headers = MappingProxyType(raw if isinstance(raw, Mapping) else {})
            parent = propagate.extract(headers, getter=_GETTER)
            producer = trace.get_current_span(parent).get_span_context()
            links = [Link(producer)] if producer.is_valid else []
            attributes = consumer_attributes(message, queue)
            name = f"process {attributes['messaging.destination.subscription.name']}"
        except Exception:
            from otel_distro._report import internal_error

            internal_error("messaging.consume_span")
            return await callback(message)
        token = context.attach(parent)
        try:
            with tracer.start_as_current_span(
                name, kind=SpanKind.CONSUMER, attributes=attributes, links=links
            ):
                return await callback(message)
        finally:
            context.detach(token)

    return traced


def _consume_wrapper(tracer: Tracer) -> _Call:
    # the arguments of the application's ``Queue.consume`` call, as aio-pika (untyped) takes them
    async def consume(
        wrapped: _Call, instance: object, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> object:
        if args:
            args = (_traced_callback(tracer, instance, args[0]), *args[1:])
        elif "callback" in kwargs:
            kwargs["callback"] = _traced_callback(tracer, instance, kwargs["callback"])
        return await wrapped(*args, **kwargs)

    return consume


class AioPikaInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Publish/consume spans for aio-pika (the distro loads it in place of contrib's)."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("aio-pika >= 7.2.0, < 11.0.0",)

    def _instrument(self, **kwargs: Any) -> None:  # BaseInstrumentor.instrument's
        import wrapt
        from aio_pika import Exchange, Queue

        from otel_distro import __version__

        tracer = trace.get_tracer(_SCOPE, __version__, kwargs.get("tracer_provider"))
        wrapt.wrap_function_wrapper(Exchange, "publish", _publish_wrapper(tracer))
        wrapt.wrap_function_wrapper(Queue, "consume", _consume_wrapper(tracer))

    def _uninstrument(self, **kwargs: object) -> None:
        from aio_pika import Exchange, Queue

        unwrap(Exchange, "publish")
        unwrap(Queue, "consume")
