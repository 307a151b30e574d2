"""The harness itself: the OTLP capture receiver decodes what exporters send, and
``launch_app`` runs the demo app for real, exports to the receiver and cleans up."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from examples.panel.runner import REPO_ROOT, clean_environ, group_alive
from examples.panel.tokens import make_token
from tests.support import AppProcess, AppStartError, OtlpCapture, launch_app

RESOURCE = Resource.create({"service.name": "harness-test"})


# --- the receiver -------------------------------------------------------------------


def test_receiver_decodes_gzip_protobuf_spans(otlp_capture: OtlpCapture) -> None:
    """Spans sent gzip-compressed by the SDK's OTLP/HTTP exporter come back as plain records."""
    exporter = OTLPSpanExporter(
        endpoint=f"{otlp_capture.endpoint}/v1/traces", compression=Compression.Gzip
    )
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("harness.scope")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        child = tracer.start_span(
            "child",
            attributes={"tags": ["a", "b"], "count": 3, "ratio": 0.5, "ok": True},
            links=[Link(parent.get_span_context(), {"why": "test"})],
        )
        child.add_event("something", {"detail": "marker-7f3a"})
        child.set_status(Status(StatusCode.ERROR, "it broke"))
        child.end()
    provider.shutdown()

    assert {r.content_encoding for r in otlp_capture.received("traces")} == {"gzip"}
    child_span, parent_span = otlp_capture.spans()
    assert parent_span.kind == "SERVER" and parent_span.parent_span_id == ""
    assert child_span.parent_span_id == parent_span.span_id
    assert (
        child_span.trace_id == parent_span.trace_id == f"{parent.get_span_context().trace_id:032x}"
    )
    assert child_span.attributes == {"tags": ["a", "b"], "count": 3, "ratio": 0.5, "ok": True}
    assert child_span.events[0].name == "something"
    assert child_span.events[0].attributes == {"detail": "marker-7f3a"}
    assert child_span.links[0].span_id == parent_span.span_id
    assert child_span.links[0].attributes == {"why": "test"}
    assert (child_span.status_code, child_span.status_message) == ("ERROR", "it broke")
    assert child_span.scope == "harness.scope"
    assert child_span.resource["service.name"] == "harness-test"
    assert b"marker-7f3a" in otlp_capture.raw_bytes()


def test_receiver_decodes_logs_and_metrics(otlp_capture: OtlpCapture) -> None:
    """Log records and metric points from the SDK exporters are decoded with their attributes."""
    logs = LoggerProvider(resource=RESOURCE)
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(
            OTLPLogExporter(
                endpoint=f"{otlp_capture.endpoint}/v1/logs", compression=Compression.Gzip
            )
        )
    )
    logs.get_logger("harness.logs").emit(
        body={"event": "hello", "nested": [1, 2]}, attributes={"k": "v"}, severity_text="INFO"
    )
    logs.shutdown()
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{otlp_capture.endpoint}/v1/metrics"),
        export_interval_millis=60_000,
    )
    meters = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meters.get_meter("harness.metrics").create_counter("jobs").add(2, {"queue": "q1"})
    meters.shutdown()

    (record,) = otlp_capture.logs()
    assert record.body == {"event": "hello", "nested": [1, 2]}
    assert record.attributes == {"k": "v"}
    assert (record.severity_text, record.scope, record.trace_id) == ("INFO", "harness.logs", "")
    (point,) = otlp_capture.metrics(name="jobs")
    assert (point.type, point.value, point.attributes) == ("sum", 2, {"queue": "q1"})


def test_receiver_decodes_otlp_json_with_hex_ids(otlp_capture: OtlpCapture) -> None:
    """An OTLP/JSON body (hex ids, as the spec writes them) decodes like protobuf."""
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "j"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "json.scope"},
                        "spans": [
                            {
                                "traceId": "0af7651916cd43dd8448eb211c80319c",
                                "spanId": "b7ad6b7169203331",
                                "name": "json-span",
                                "kind": 2,
                                "attributes": [{"key": "n", "value": {"intValue": "5"}}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    response = httpx.post(
        f"{otlp_capture.endpoint}/v1/traces",
        content=gzip.compress(httpx.Request("POST", "/", json=body).content),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    assert response.status_code == 200
    (span,) = otlp_capture.spans()
    assert (span.trace_id, span.span_id, span.kind) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        "SERVER",
    )
    assert span.attributes == {"n": 5}
    assert span.resource == {"service.name": "j"}


def test_receiver_rejects_undecodable_bodies(otlp_capture: OtlpCapture) -> None:
    """A body that is not OTLP is answered with 400, kept out of the data and reported."""
    response = httpx.post(
        f"{otlp_capture.endpoint}/v1/logs",
        content=b"\xff\x00 not protobuf",
        headers={"Content-Type": "application/x-protobuf"},
    )

    assert response.status_code == 400
    assert otlp_capture.received() == []
    assert len(otlp_capture.errors) == 1


def test_wait_for_times_out_with_a_summary(otlp_capture: OtlpCapture) -> None:
    """A wait that never succeeds fails with what did arrive."""
    with pytest.raises(
        AssertionError, match=r"(?s)timed out after 0.3s waiting for a span.*0 spans"
    ):
        otlp_capture.wait_for(lambda: otlp_capture.spans(), timeout=0.3, message="a span")


# --- real launches ------------------------------------------------------------------


@pytest.mark.integration
def test_stock_sdk_launch_exports_server_span_with_route(
    launch: Callable[..., AppProcess], otlp_capture: OtlpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under plain opentelemetry-instrument the demo app's request reaches the receiver (gzip)
    as a SERVER span with its route, and stray OTEL_* variables of the test run do not leak in."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "stray-value")
    app = launch(stock_sdk=True, env={"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"})

    response = app.client().get("/upstream/echo-headers")

    assert response.status_code == 200
    spans = otlp_capture.wait_for(
        lambda: otlp_capture.spans(kind="SERVER", name="GET /upstream/echo-headers")
    )
    assert spans[0].attributes["http.route"] == "/upstream/echo-headers"
    assert spans[0].resource["service.name"] == "panel-api"
    assert {r.content_encoding for r in otlp_capture.received("traces")} == {"gzip"}


@pytest.mark.integration
def test_outbound_status_call_carries_the_trace(
    launch: Callable[..., AppProcess], otlp_capture: OtlpCapture
) -> None:
    """The status endpoint's outbound httpx call is a CLIENT span in the request's trace, and
    the upstream (the app itself) received that trace in ``traceparent``."""
    app = launch(stock_sdk=True)
    client = app.client(headers={"Authorization": f"Bearer {make_token('u-1', 'team-a')}"})
    site = client.post("/sites", json={"name": "Blog", "domain": "blog.example"}).json()

    status = client.get(f"/sites/{site['id']}/status")

    assert status.status_code == 200
    server = otlp_capture.wait_for(
        lambda: otlp_capture.spans(kind="SERVER", name="GET /sites/{site_id}/status")
    )[0]
    clients = otlp_capture.wait_for(
        lambda: otlp_capture.spans(kind="CLIENT", trace_id=server.trace_id)
    )
    traceparent = status.json()["upstream"]["headers"]["traceparent"]
    assert traceparent.split("-")[1] == server.trace_id
    assert traceparent.split("-")[2] == clients[0].span_id


@pytest.mark.integration
def test_launch_leaves_no_process_behind(otlp_capture: OtlpCapture) -> None:
    """Leaving ``launch_app`` stops uvicorn and its worker processes (the whole group)."""
    with launch_app(capture=otlp_capture, stock_sdk=True, workers=2) as app:
        assert app.client().get("/health").status_code == 200
        pgid = app.pid

    assert app.returncode is not None
    assert not group_alive(pgid)


@pytest.mark.integration
def test_launch_failure_shows_the_app_output(otlp_capture: OtlpCapture) -> None:
    """An app that cannot start fails fast with its own error output in the message."""
    with (
        pytest.raises(AppStartError, match=r"(?s)exited with code.*no_such_module"),
        launch_app("examples.no_such_module:app", capture=otlp_capture, stock_sdk=True),
    ):
        pass


@pytest.mark.integration
def test_make_demo_runs_end_to_end() -> None:
    """``python -m examples.demo`` starts the app under otel-distro, prints a trace id for
    every request, reports the spans received for each trace, and exits cleanly."""
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--no-stack"],
        cwd=REPO_ROOT,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    requests = re.findall(
        r"^  (\d{3})  (GET|POST|DELETE) +(\S+) +([0-9a-f]{32})  ", result.stdout, re.M
    )
    sse = "RabbitMQ -> SSE step skipped" not in result.stdout  # a subscriber on /events first
    assert len(requests) == 15 + sse, result.stdout
    assert {status for status, *_ in requests} == {"200", "201", "401", "403", "404", "500"}
    per_trace = re.findall(r"^  ([0-9a-f]{16}) +(\d+) +(\d+) ", result.stdout, re.M)
    assert [trace for trace, *_ in per_trace] == [trace[:16] for *_, trace in requests]
    assert all(int(spans) >= 1 for _, spans, _ in per_trace), result.stdout
    security = re.findall(r"^    (\w+_(?:violation|anomaly|detected)) +(\S+)", result.stdout, re.M)
    assert ("auth_violation", "missing_permission") in security, result.stdout
    assert ("tenant_violation", "cross_tenant_access") in security, result.stdout
    assert [kind for kind, _ in security].count("abuse_signal_detected") == 1, result.stdout


@pytest.mark.integration
def test_sigterm_stop_flushes_buffered_telemetry(
    launch: Callable[..., AppProcess], otlp_capture: OtlpCapture
) -> None:
    """Stopping with SIGTERM (what orchestrators send) still delivers what was buffered:
    uvicorn re-raises SIGTERM after its graceful shutdown, so this needs the distro's handler."""
    slow = {"OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_BLRP_SCHEDULE_DELAY": "60000"}
    app = launch(env=slow)
    assert app.client().get("/upstream/echo-headers").status_code == 200

    app.stop()

    assert otlp_capture.spans(kind="SERVER", name="GET /upstream/echo-headers")
