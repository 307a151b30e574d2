"""The collector stack recovers after a restart: spans sent afterwards reach Jaeger."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.integration.collector_otlp import (
    jaeger_tags,
)
from tests.integration.stack import start_stack

pytestmark = pytest.mark.integration


# --- restart --------------------------------------------------------------------------


def test_spans_sent_after_a_collector_restart_reach_jaeger(tmp_path: Path) -> None:
    """An app exporting continuously through the SDK's BatchSpanProcessor keeps
    delivering once the collector is back: spans created after a restart reach Jaeger."""
    stack = start_stack(tmp_path)
    service = f"restart-check-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{stack.otlp_http_endpoint}/v1/traces", timeout=5),
            schedule_delay_millis=100,
        )
    )
    tracer = provider.get_tracer("restart-check")
    stop = threading.Event()
    phase = ["before"]

    def keep_sending() -> None:
        seq = 0
        while not stop.is_set():
            with tracer.start_as_current_span("tick") as span:
                span.set_attribute("test.phase", phase[0])
                span.set_attribute("test.seq", seq)
            seq += 1
            stop.wait(0.05)

    sender = threading.Thread(target=keep_sending, name="span-sender", daemon=True)
    sender.start()
    try:
        stack.wait_for_traces(service, {"test.phase": "before"})
        old_pid = stack.pid("collector")
        stack.restart_collector()
        new_pid = stack.pid("collector")
        assert new_pid is not None and new_pid != old_pid
        phase[0] = "after"

        after = stack.wait_for_traces(service, {"test.phase": "after"}, count=3, timeout=60)
        assert all(
            jaeger_tags(span["tags"])["test.phase"] == "after"
            for trace in after
            for span in trace["spans"]
        )
        with tracer.start_as_current_span("marked") as marked:
            trace_id = marked.get_span_context().trace_id
        trace = stack.wait_for_trace(trace_id, timeout=60)
        assert trace["traceID"] == f"{trace_id:032x}"
        assert [span["operationName"] for span in trace["spans"]] == ["marked"]
    finally:
        stop.set()
        sender.join(timeout=10)
        provider.shutdown()
        stack.stop()
    assert stack.pid("collector") is None and stack.pid("jaeger") is None
