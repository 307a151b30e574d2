"""The whole path: demo app under ``opentelemetry-instrument`` -> Collector -> Jaeger and files.

Asserted through Jaeger's HTTP API and the Collector's file output, with a
planted secret that must not arrive anywhere.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from examples.panel.tokens import make_token
from tests.integration.stack import Stack
from tests.support import launch_app

pytestmark = pytest.mark.integration

PLANTED = "PLANTEDe2eSECRETx7y8"


def tags_of(span: dict[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in span.get("tags", [])}


def trace_ids_in(records: list[dict[str, Any]], signal: str) -> set[str]:
    found: set[str] = set()
    resource_key, scope_key, item_key = {
        "traces": ("resourceSpans", "scopeSpans", "spans"),
        "logs": ("resourceLogs", "scopeLogs", "logRecords"),
    }[signal]
    for record in records:
        for resource in record.get(resource_key, []):
            for scope in resource.get(scope_key, []):
                for item in scope.get(item_key, []):
                    if item.get("traceId"):
                        found.add(item["traceId"])
    return found


def test_trace_in_jaeger_with_tenant_outbound_call_and_no_secret(otel_stack: Stack) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otel_stack.otlp_http_endpoint,
        "OTEL_SERVICE_NAME": "panel-e2e",
    }
    headers = {"Authorization": f"Bearer {make_token('u-42', 't-42')}"}
    with launch_app(env=env) as app:
        client = app.client()
        created = client.post(
            f"/sites?api_key={PLANTED}",
            json={"name": "shop", "domain": "shop.example"},
            headers=headers,
        )
        site_id = created.json()["id"]
        response = client.get(f"/sites/{site_id}/status?token={PLANTED}", headers=headers)
        assert response.status_code == 200
        trace_id = response.headers["x-request-id"]
        trace = otel_stack.wait_for_trace(trace_id, min_spans=2)
        app.stop()

    assert "panel-e2e" in otel_stack.services()
    processes = trace["processes"]
    spans = trace["spans"]
    server = [
        s for s in spans if tags_of(s).get("span.kind") == "server" and not s.get("references")
    ]
    assert [s["operationName"] for s in server] == ["GET /sites/{site_id}/status"]
    assert processes[server[0]["processID"]]["serviceName"] == "panel-e2e"
    client_spans = [s for s in spans if tags_of(s).get("span.kind") == "client"]
    assert client_spans, "the outbound httpx call is missing"
    assert client_spans[0]["references"][0]["spanID"] == server[0]["spanID"]
    for span in server + client_spans:
        assert tags_of(span)["tenant.id"] == "t-42"
        assert tags_of(span)["user.id"] == "u-42"
    assert PLANTED not in json.dumps(trace)

    # Jaeger can find it by tenant, too
    by_tenant = otel_stack.wait_for_traces("panel-e2e", {"tenant.id": "t-42"}, count=2)
    assert trace_id in {t["traceID"] for t in by_tenant}

    # the file exporters: the same trace in traces and logs, and metrics
    otel_stack.wait_for_output("traces", lambda r: trace_id in trace_ids_in([r], "traces"))
    otel_stack.wait_for_output("logs", lambda r: trace_id in trace_ids_in([r], "logs"))
    otel_stack.wait_for_output("metrics", lambda r: bool(r.get("resourceMetrics")))
    for signal in ("traces", "logs", "metrics"):
        assert PLANTED not in json.dumps(otel_stack.read_output(signal)), signal
