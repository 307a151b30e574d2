"""Startup paths through real launches: the file fallback and loud warnings."""

from __future__ import annotations

import json
import socket

import pytest

from tests.support import OtlpCapture, launch_app
from tests.support.ci import require

pytestmark = pytest.mark.integration


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_unreachable_default_endpoint_falls_back_to_files() -> None:
    """No endpoint set and nothing on 127.0.0.1:4318: OTLP JSON lines land in ./telemetry/."""
    require(port_free(4318) and port_free(4317), "something listens on 127.0.0.1:4317/4318")
    with launch_app(capture=None) as app:
        response = app.client().get("/health")
        trace_id = response.headers["x-request-id"]
        app.client().post("/echo-log", json={"note": "first run"})
        app.stop()
        stderr = app.stderr_text()
        folder = app.workdir / "telemetry"
        traces = (folder / "traces.jsonl").read_text().splitlines()
        logs = (folder / "logs.jsonl").read_text().splitlines()
        metrics = (folder / "metrics.jsonl").read_text().splitlines()
    assert stderr.count("writing telemetry as OTLP JSON lines") == 1, stderr
    span_trace_ids = {
        span["traceId"]
        for line in traces
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    }
    assert trace_id in span_trace_ids
    bodies = [
        record["body"].get("stringValue")
        for line in logs
        for rl in json.loads(line)["resourceLogs"]
        for sl in rl["scopeLogs"]
        for record in sl["logRecords"]
    ]
    assert "echo_log" in bodies
    assert metrics and "resourceMetrics" in json.loads(metrics[0])


def test_config_file_warning(otlp_capture: OtlpCapture) -> None:
    """OTEL_CONFIG_FILE would bypass our processors: one loud line says so; the app serves."""
    with launch_app(capture=otlp_capture, env={"OTEL_CONFIG_FILE": "/nonexistent.yaml"}) as app:
        assert app.client().get("/health").status_code == 200
        app.stop()
        stderr = app.stderr_text()
    assert stderr.count("OTEL_CONFIG_FILE='/nonexistent.yaml' is set") == 1, stderr
    assert "NOT installed" in stderr


def test_other_configurator_warning(otlp_capture: OtlpCapture) -> None:
    """Selecting another configurator is called out at startup; the app still serves."""
    with launch_app(capture=otlp_capture, env={"OTEL_PYTHON_CONFIGURATOR": "vendor"}) as app:
        assert app.client().get("/health").status_code == 200
        app.stop()
        stderr = app.stderr_text()
    assert stderr.count("OTEL_PYTHON_CONFIGURATOR='vendor' selects another configurator") == 1


def test_other_distro_warning(otlp_capture: OtlpCapture) -> None:
    """When another distro is selected, one startup line says ours is not in charge."""
    with launch_app(capture=otlp_capture, env={"OTEL_PYTHON_DISTRO": "vendor_distro"}) as app:
        assert app.client().get("/health").status_code == 200
        app.stop()
        stderr = app.stderr_text()
    assert stderr.count("OTEL_PYTHON_DISTRO='vendor_distro' loaded another distro") == 1, stderr


def test_sigterm_flushes_everything(otlp_capture: OtlpCapture) -> None:
    """Batches that have not exported yet still leave the process when it gets SIGTERM."""
    slow = {
        "OTEL_BSP_SCHEDULE_DELAY": "60000",
        "OTEL_BLRP_SCHEDULE_DELAY": "60000",
        "OTEL_METRIC_EXPORT_INTERVAL": "60000",
    }
    with launch_app(capture=otlp_capture, env=slow) as app:
        trace_id = app.client().post("/echo-log", json={"n": 1}).headers["x-request-id"]
        assert otlp_capture.received() == []
        app.stop()  # SIGTERM to the process group
    assert otlp_capture.spans(trace_id=trace_id, kind="SERVER")
    assert [log for log in otlp_capture.logs() if log.body == "echo_log"]
    assert otlp_capture.metrics()


def test_unknown_propagator_does_not_stop_the_launch(otlp_capture: OtlpCapture) -> None:
    """OTEL_PROPAGATORS=bogus (which makes the API raise at import) is repaired at start-up."""
    with launch_app(capture=otlp_capture, env={"OTEL_PROPAGATORS": "bogus,tracecontext"}) as app:
        response = app.client().get("/health")
        assert response.status_code == 200
        assert response.headers["x-request-id"]
        app.stop()
        stderr = app.stderr_text()
    assert stderr.count("OTEL_PROPAGATORS='bogus,tracecontext'") == 1, stderr
    assert "Traceback" not in stderr
