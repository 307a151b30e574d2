"""Site creation -> RabbitMQ -> SSE, seen in Jaeger as one trace (demo app, real Collector)."""

from __future__ import annotations

from typing import Any

import pytest

from examples.panel.tokens import make_token
from tests.integration.stack import Stack
from tests.integration.test_messaging_sse import FastClient, wait_until
from tests.support import launch_app
from tests.support.rabbitmq import Broker

pytestmark = pytest.mark.integration


def kind(span: dict[str, Any]) -> str:
    return {t["key"]: t["value"] for t in span.get("tags", [])}.get("span.kind", "internal")


def test_site_event_flow_is_one_trace_in_jaeger(otel_stack: Stack, broker: Broker) -> None:
    """POST /sites, its publish, the consume and the SSE forward are one Jaeger trace."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otel_stack.otlp_http_endpoint,
        "OTEL_SERVICE_NAME": "panel-sse-e2e",
        "PANEL_AMQP_URL": broker.url,
        "OTEL_DISTRO_SSE_KEEPALIVE_SECONDS": "0.5",
    }
    headers = {"Authorization": f"Bearer {make_token('u-7', 't-7')}"}
    with launch_app(env=env) as app:
        subscriber = FastClient(f"{app.base_url}/events", headers=headers)
        created = app.client().post(
            "/sites", json={"name": "shop", "domain": "shop.example"}, headers=headers
        )
        wait_until(lambda: subscriber.events("site"), what="the site event")
        trace_id = created.headers["x-request-id"]
        trace = otel_stack.wait_for_trace(trace_id, min_spans=4)
        subscriber.close()
        app.stop()
    spans = {kind(s): s for s in trace["spans"]}
    assert {"server", "producer", "consumer", "internal"} <= set(spans)
    by_id = {s["spanID"]: s for s in trace["spans"]}

    def parent(span: dict[str, Any]) -> str:
        # Jaeger shows a parent that is also a link (the consumer's) as FOLLOWS_FROM
        refs = [r for r in span.get("references", []) if r["spanID"] in by_id]
        return str(by_id[refs[0]["spanID"]]["operationName"]) if refs else ""

    assert parent(spans["producer"]) == spans["server"]["operationName"]
    assert parent(spans["consumer"]) == spans["producer"]["operationName"]
    (forward,) = [s for s in trace["spans"] if s["operationName"].startswith("sse forward")]
    assert parent(forward) == spans["consumer"]["operationName"]
    # and the fan-out links to the subscriber's own (long-lived) GET /events trace
    assert [r["refType"] for r in forward["references"] if r["spanID"] not in by_id] == [
        "FOLLOWS_FROM"
    ]
