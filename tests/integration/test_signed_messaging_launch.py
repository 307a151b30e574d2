"""Signed baggage through a real RabbitMQ broker between two real instrumented services.

The publisher (an ``opentelemetry-instrument uvicorn`` app) sets the tenant and publishes
with aio-pika; the consumer (another one) has no peer address to trust, so only the
signature lets it see the publisher's tenant on its consumer span and its log records.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import aio_pika
import pytest

from tests.support import AppProcess, OtlpCapture, launch_app
from tests.support.rabbitmq import Broker

pytestmark = pytest.mark.integration

APP = "tests.integration.signed_app:app"
KEY = secrets.token_urlsafe(32)
QUEUE = f"signed-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


def _env(broker: Broker, name: str, **extra: str) -> dict[str, str]:
    return {
        "OTEL_SERVICE_NAME": name,
        "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": f"k1:{KEY}",
        "SIGNED_AMQP_URL": broker.url,
        "SIGNED_QUEUE": QUEUE,
        **extra,
    }


@pytest.fixture(scope="module")
def consumer(broker: Broker, capture: OtlpCapture) -> Iterator[AppProcess]:
    with launch_app(
        APP, capture=capture, env=_env(broker, "svc-consumer", SIGNED_CONSUME="1")
    ) as c:
        yield c


@pytest.fixture(scope="module")
def publisher(broker: Broker, capture: OtlpCapture, consumer: AppProcess) -> Iterator[AppProcess]:
    with launch_app(APP, capture=capture, env=_env(broker, "svc-publisher")) as p:
        yield p


def _consumed(consumer: AppProcess, capture: OtlpCapture, body: str) -> dict[str, Any]:
    def find() -> list[dict[str, Any]]:
        seen = consumer.client().get("/consumed").json()
        return [item for item in seen if item["body"] == body]

    return capture.wait_for(find, message=f"message {body!r} consumed")[0]


def _consumer_span(capture: OtlpCapture, trace_id: str) -> Any:
    def find() -> list[Any]:
        return [
            s
            for s in capture.spans(kind="CONSUMER", trace_id=trace_id)
            if s.resource.get("service.name") == "svc-consumer"
        ]

    return capture.wait_for(find, message=f"consumer span of trace {trace_id}")[0]


def _violations(span: Any) -> list[dict[str, Any]]:
    """The reason each security event of the span names (the events carry more, never values)."""
    return [
        {"violation": e.attributes["violation"]}
        for e in span.events
        if e.name == "security.violation"
    ]


@pytest.fixture(scope="module")
def delivered(publisher: AppProcess, consumer: AppProcess, capture: OtlpCapture) -> dict[str, Any]:
    tenant, body = f"t-{secrets.token_hex(4)}", f"site-{secrets.token_hex(4)}"
    response = publisher.client().get("/publish", params={"tenant": tenant, "body": body})
    assert response.status_code == 200
    item = _consumed(consumer, capture, body)
    item["sent_tenant"] = tenant
    return item


def test_consumer_sees_the_publishers_tenant(delivered: dict[str, Any]) -> None:
    """The message carries a signature, and the consumer's handler sees the tenant."""
    assert "otel_distro.sig=v1.k1." in delivered["baggage"]
    assert (delivered["tenant"], delivered["user"]) == (delivered["sent_tenant"], "u-1")


def test_consumer_span_and_log_carry_the_tenant(
    delivered: dict[str, Any], capture: OtlpCapture
) -> None:
    """The consumer span and the consumer's log record have the publisher's tenant."""
    trace_id = delivered["traceparent"].split("-")[1]
    span = _consumer_span(capture, trace_id)
    assert span.attributes["tenant.id"] == delivered["sent_tenant"]
    assert _violations(span) == []

    def logs() -> list[Any]:
        return [
            r
            for r in capture.logs(trace_id=trace_id)
            if r.body == "message consumed" and r.resource.get("service.name") == "svc-consumer"
        ]

    record = capture.wait_for(logs, message="the consumer's log record")[0]
    assert record.attributes["tenant.id"] == delivered["sent_tenant"]
    assert not any("otel_distro.sig" in str(r.attributes) for r in capture.logs(trace_id=trace_id))


@pytest.mark.parametrize(("case", "reason"), [("unsigned", "missing"), ("copied", "wrong_trace")])
async def test_forged_message_sets_no_tenant(
    case: str,
    reason: str,
    broker: Broker,
    consumer: AppProcess,
    delivered: dict[str, Any],
    capture: OtlpCapture,
) -> None:
    """A message published around the signing service gets no tenant, and names its reason."""
    trace_id, body = secrets.token_hex(16), f"forged-{secrets.token_hex(4)}"
    # "copied": the genuine signed baggage of another message, on a trace of its own
    baggage = {"unsigned": "tenant.id=evil,user.id=u-1", "copied": delivered["baggage"]}[case]
    headers = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01", "baggage": baggage}
    connection = await aio_pika.connect_robust(broker.url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(body.encode(), headers=headers), routing_key=QUEUE
        )
    item = _consumed(consumer, capture, body)
    assert item["tenant"] is None and item["user"] is None
    span = _consumer_span(capture, trace_id)
    assert "tenant.id" not in span.attributes
    assert _violations(span) == [{"violation": f"baggage_signature_{reason}"}]


SPOOF_QUEUE = f"spoof-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def trusting_consumer(broker: Broker, capture: OtlpCapture) -> Iterator[AppProcess]:
    """A consumer that trusts loopback peers (and has no signing key)."""
    env = {
        "OTEL_SERVICE_NAME": "svc-trusting",
        "OTEL_DISTRO_TRUSTED_PEERS": "127.0.0.0/8",
        "SIGNED_AMQP_URL": broker.url,
        "SIGNED_QUEUE": SPOOF_QUEUE,
        "SIGNED_CONSUME": "1",
    }
    with launch_app(APP, capture=capture, env=env) as c:
        yield c


async def test_headers_shaped_like_an_asgi_scope_are_no_trusted_peer(
    broker: Broker, trusting_consumer: AppProcess, capture: OtlpCapture
) -> None:
    """A message whose headers claim ``type=http`` and a trusted ``client`` gets no tenant:
    a consumed message has no peer address, however its headers are shaped."""
    body = f"spoofed-{secrets.token_hex(4)}"
    headers: dict[str, Any] = {
        "type": "http",
        "client": ["127.0.0.1", 5672],
        "baggage": "tenant.id=evil,user.id=u-1",
        "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
    }
    connection = await aio_pika.connect_robust(broker.url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(body.encode(), headers=headers), routing_key=SPOOF_QUEUE
        )
    item = _consumed(trusting_consumer, capture, body)
    assert item["tenant"] is None and item["user"] is None
