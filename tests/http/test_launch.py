"""The full pipeline: ``opentelemetry-instrument uvicorn`` calling a third party via the factory."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from otel_distro.http._body import IGNORED_IN_PRODUCTION
from tests.support import AppProcess, OtlpCapture

pytestmark = pytest.mark.integration


def planted() -> dict[str, str]:
    return {
        "user": secrets.token_hex(6),
        "password": secrets.token_hex(10),
        "api_key": secrets.token_hex(12),
        "token": secrets.token_hex(16),
        "cookie": f"session={secrets.token_hex(16)}",
        "secret": secrets.token_hex(12),
        "tenant": "team-" + secrets.token_hex(4),
    }


def run(
    launch: Callable[..., AppProcess],
    otlp_capture: OtlpCapture,
    third_party: AppProcess,
    env: dict[str, str],
) -> tuple[AppProcess, dict[str, Any], dict[str, str]]:
    values = planted()
    app = launch(
        "tests.http.caller_app:app",
        env={
            "THIRD_PARTY_URL": third_party.base_url,
            "OTEL_DISTRO_BAGGAGE_PROPAGATE_TO": "*.internal",
            "EXTERNAL_HTTP_ENABLE_BODY_LOGGING": "true",
            **env,
        },
    )
    answer = app.client().post("/call", json=values).json()
    otlp_capture.wait_for(
        lambda: (
            len([s for s in otlp_capture.spans(kind="CLIENT")]) >= 2
            and len([log for log in otlp_capture.logs() if log.body == "external_http_call"]) >= 2
            and otlp_capture.metrics(name="otel_distro.external_http.failures")
        ),
        message="client spans, external_http_call records and failure metrics",
    )
    return app, answer, values


def secret_values(values: dict[str, str]) -> list[str]:
    return [v.split("=", 1)[-1] for k, v in values.items() if k != "tenant"]


def test_a_factory_call_is_one_client_span_one_record_and_metric_points(
    launch: Callable[..., AppProcess], otlp_capture: OtlpCapture, third_party: AppProcess
) -> None:
    """Under opentelemetry-instrument: peer.service on span, record and metrics; no duplicates."""
    _, answer, _ = run(launch, otlp_capture, third_party, {"ENVIRONMENT": "development"})
    assert answer["flaky"] == 200  # retried once
    [server] = [span for span in otlp_capture.spans(kind="SERVER") if "/call" in span.name]
    clients = otlp_capture.spans(kind="CLIENT")
    assert len(clients) == 2  # one per call, the httpx instrumentation did not add its own
    assert all(span.parent_span_id == server.span_id for span in clients)
    charge = next(span for span in clients if span.name == "POST")
    assert charge.attributes["peer.service"] == "billing"
    assert charge.scope == "otel_distro.http"
    flaky = next(span for span in clients if span.name == "GET")
    attempts = [event for event in flaky.events if event.name == "http.attempt"]  # not the logs
    assert [event.attributes["outcome"] for event in attempts] == ["503", "200"]
    records = [log for log in otlp_capture.logs() if log.body == "external_http_call"]
    assert {log.trace_id for log in records} == {server.trace_id}
    post = next(log for log in records if log.attributes["http.request.method"] == "POST")
    assert post.attributes["peer.service"] == "billing"
    assert post.attributes["http.response.status_code"] == 200
    assert "http.request.body" in post.attributes and "http.response.body" in post.attributes
    points = otlp_capture.metrics(name="http.client.request.duration")
    assert {p.attributes.get("peer.service") for p in points} == {"billing"}
    assert all(p.unit == "s" for p in points)


def test_no_planted_secret_leaves_the_process_and_no_baggage_reaches_the_third_party(
    launch: Callable[..., AppProcess], otlp_capture: OtlpCapture, third_party: AppProcess
) -> None:
    """Userinfo, query, header, cookie and body secrets appear in no export and no log line."""
    app, answer, values = run(launch, otlp_capture, third_party, {"ENVIRONMENT": "development"})
    received = answer["received"]["headers"]
    assert received["x-api-key"] == values["token"]  # the call itself is unchanged
    assert "traceparent" in received
    assert "baggage" not in received  # 127.0.0.1 is not allowed: the tenant stays home
    exported = otlp_capture.raw_bytes()
    printed = app.stdout_text() + app.stderr_text()
    for secret in secret_values(values):
        assert secret.encode() not in exported
        assert secret not in printed


def test_production_exports_no_body_and_says_the_flag_was_ignored(
    launch: Callable[..., AppProcess], otlp_capture: OtlpCapture, third_party: AppProcess
) -> None:
    """ENVIRONMENT=production: records without bodies, one startup line about the flag."""
    app, _, values = run(launch, otlp_capture, third_party, {"ENVIRONMENT": "production"})
    records = [log for log in otlp_capture.logs() if log.body == "external_http_call"]
    assert records
    assert not [key for log in records for key in log.attributes if key.endswith(".body")]
    assert app.stderr_text().count(IGNORED_IN_PRODUCTION) == 1
    exported = otlp_capture.raw_bytes()
    for secret in secret_values(values):
        assert secret.encode() not in exported
