"""Hostile message headers never break a consumer, and never set its trace or tenant."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry import baggage
from opentelemetry.trace import SpanKind

from otel_distro.messaging._aio_pika import _traced_callback
from tests.messaging.conftest import Flow

HOSTILE_HEADERS = [
    {"traceparent": b"\xff\xfe" * 5000, "baggage": b"\x00tenant.id=evil"},
    {"traceparent": 12345, "baggage": ["tenant.id=evil"], "tracestate": {"a": 1}},
    {"traceparent": "00-" + "f" * 32 + "-" + "f" * 16 + "-01" + "x" * 600},
    {"baggage": "tenant.id=evil," * 1000},
    None,
]


@pytest.mark.parametrize("headers", HOSTILE_HEADERS)
async def test_hostile_headers_reach_the_callback_once_untrusted(flow: Flow, headers: Any) -> None:
    """Each hostile header set: the callback runs once, in a new trace, with no tenant."""
    seen: list[Any] = []

    async def callback(message: Any) -> str:
        seen.append(baggage.get_baggage("tenant.id"))
        return "done"

    queue = SimpleNamespace(name="orders-" + secrets.token_hex(4), exclusive=False, channel=None)
    message = SimpleNamespace(
        headers=headers,
        exchange="",
        routing_key=queue.name,
        message_id=None,
        correlation_id=None,
        body=b"{}",
    )
    traced = _traced_callback(flow.tracers.get_tracer("test"), queue, callback)
    assert await traced(message) == "done"
    assert seen == [None]
    (span,) = flow.spans.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER
    assert span.parent is None


async def test_a_header_table_shaped_like_an_asgi_scope_is_no_trusted_peer(flow: Flow) -> None:
    """A message whose headers claim ``type=http`` and a ``client`` in
    ``OTEL_DISTRO_TRUSTED_PEERS`` has no peer address: its unsigned tenant is dropped."""
    from opentelemetry import propagate
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from otel_distro.config import load_settings
    from otel_distro.propagation import TrustedBaggagePropagator

    seen: list[Any] = []

    async def callback(message: Any) -> str:
        seen.append(baggage.get_baggage("tenant.id"))
        return "done"

    settings = load_settings({"OTEL_DISTRO_TRUSTED_PEERS": "10.0.0.0/8"})
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), TrustedBaggagePropagator(settings)])
    )
    headers = {"type": "http", "client": ["10.1.2.3", 5672], "baggage": "tenant.id=evil"}
    queue = SimpleNamespace(name="orders-" + secrets.token_hex(4), exclusive=False, channel=None)
    message = SimpleNamespace(
        headers=headers,
        exchange="",
        routing_key=queue.name,
        message_id=None,
        correlation_id=None,
        body=b"{}",
    )
    try:
        traced = _traced_callback(flow.tracers.get_tracer("test"), queue, callback)
        assert await traced(message) == "done"
    finally:
        propagate.set_global_textmap(previous)
    assert seen == [None]
