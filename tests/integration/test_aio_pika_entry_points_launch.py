"""aio-pika under ``opentelemetry-instrument`` with the contrib instrumentation installed too.

The distro has its own ``aio-pika`` entry point; the dev environment also installs
``opentelemetry-instrumentation-aio-pika`` (``make venv``), whose entry point has the same
name.  A real app publishes to and consumes from a real RabbitMQ queue: each publish is
one PRODUCER span and each delivery one CONSUMER span, both the distro's.
"""

from __future__ import annotations

import secrets
from importlib.metadata import entry_points

import pytest

from tests.support import OtlpCapture, launch_app
from tests.support.ci import require
from tests.support.rabbitmq import Broker

pytestmark = pytest.mark.integration

APP = "tests.integration.signed_app:app"
OURS = "otel_distro.messaging.aio_pika"
MESSAGES = 3


def _aio_pika_dists() -> set[str]:
    found = entry_points(group="opentelemetry_instrumentor")
    return {ep.dist.name for ep in found if ep.name == "aio-pika" and ep.dist is not None}


def _run(broker: Broker, capture: OtlpCapture, **env: str) -> list[str]:
    """Publish MESSAGES messages through the app's own queue; the bodies it consumed."""
    queue = f"entry-points-{secrets.token_hex(4)}"
    app_env = {"SIGNED_AMQP_URL": broker.url, "SIGNED_QUEUE": queue, "SIGNED_CONSUME": "1"}
    bodies = [f"m-{n}-{secrets.token_hex(4)}" for n in range(MESSAGES)]
    with launch_app(APP, capture=capture, env={**app_env, **env}) as app:
        client = app.client()
        for body in bodies:
            client.get("/publish", params={"tenant": "t-1", "body": body}).raise_for_status()

        def all_consumed() -> list[str]:
            seen = [item["body"] for item in client.get("/consumed").json()]
            return seen if len(seen) >= MESSAGES else []

        consumed = capture.wait_for(all_consumed, message=f"{MESSAGES} messages consumed")
        app.stop()  # flushes every span
    return consumed


def test_contrib_entry_point_present_each_message_is_one_span_each(broker: Broker) -> None:
    """Both entry points present: MESSAGES publishes and deliveries give exactly MESSAGES
    PRODUCER and MESSAGES CONSUMER spans, each from the distro's instrumentation."""
    require(
        {"otel-distro", "opentelemetry-instrumentation-aio-pika"} <= _aio_pika_dists(),
        "both aio-pika entry points must be installed (make venv installs the contrib)",
    )
    with OtlpCapture() as capture:
        consumed = _run(broker, capture)
        producers = capture.spans(kind="PRODUCER")
        consumers = capture.spans(kind="CONSUMER")
    assert len(consumed) == MESSAGES
    assert len(producers) == MESSAGES and len(consumers) == MESSAGES, (producers, consumers)
    assert {span.scope for span in producers + consumers} == {OURS}
    assert sorted(c.parent_span_id for c in consumers) == sorted(p.span_id for p in producers)


def test_disabling_aio_pika_disables_both_entry_points(broker: Broker) -> None:
    """OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=aio-pika: no messaging span at all."""
    with OtlpCapture() as capture:
        consumed = _run(broker, capture, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="aio-pika")
        capture.wait_for(
            lambda: capture.spans(kind="SERVER"), message="the publish requests' spans"
        )
        messaging = capture.spans(kind="PRODUCER") + capture.spans(kind="CONSUMER")
    assert len(consumed) == MESSAGES
    assert messaging == []
