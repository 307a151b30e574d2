"""One app process of the scale-out tests: spans of planned traces, sent to the agent.

Run as ``python -m tests.integration.scaleout_app PLAN ROLE`` with
``OTEL_EXPORTER_OTLP_ENDPOINT`` set to the agent. ``PLAN`` is a JSON file listing
traces (``trace_id``, ``root_span_id``, ``start_ns``, ``kind``); span times come
from the plan, so a trace's duration does not depend on when each process runs.
``ROLE`` ``root`` ends each trace's root span; ``child`` ends one child span per
trace under that root, so every trace has spans from two processes that the agent
must route together.

Kinds: ``ordinary``, ``error`` (the child's status is ERROR), ``slow`` (the root
lasts 1.5 s), ``security_event`` (a ``security.violation`` span event on the
root) and ``security_attribute`` (the root carries
``otel_distro.security.violation``).

Each process also sends one log record per trace, inside its span (``scaleout.span``
with the trace's ``kind``), one record outside any trace (``scaleout.started``) and a
counter ``scaleout.spans`` (attributes ``role`` and ``run``, the plan file's name):
logs and metrics go through the same agent, and are never tail-sampled.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

SLOW_NS = 1_500_000_000


def _context(entry: dict[str, Any]) -> Any:
    parent = SpanContext(
        trace_id=int(entry["trace_id"], 16),
        span_id=int(entry["root_span_id"], 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


class _FixedIds(RandomIdGenerator):
    """Hands out the planned root ids once, then random ids."""

    def __init__(self) -> None:
        self.next_trace_id: int | None = None
        self.next_span_id: int | None = None

    def generate_trace_id(self) -> int:
        value, self.next_trace_id = self.next_trace_id, None
        return value if value is not None else super().generate_trace_id()

    def generate_span_id(self) -> int:
        value, self.next_span_id = self.next_span_id, None
        return value if value is not None else super().generate_span_id()


def main(plan_path: str, role: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    ids = _FixedIds()
    service = f"scaleout-{role}"
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        id_generator=ids,
    )
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(), max_export_batch_size=256, schedule_delay_millis=200)
    )
    tracer = provider.get_tracer("scaleout")
    logs = LoggerProvider(resource=provider.resource)
    logs.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(), max_export_batch_size=256, schedule_delay_millis=200
        )
    )
    logger = logs.get_logger("scaleout")
    meters = MeterProvider(
        resource=provider.resource,
        metric_readers=[
            PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=1000)
        ],
    )
    spans = meters.get_meter("scaleout").create_counter("scaleout.spans")
    counted = {"role": role, "run": Path(plan_path).stem}
    logger.emit(body="scaleout.started", severity_number=SeverityNumber.INFO, attributes=counted)
    for entry in plan:
        kind = entry["kind"]
        if role == "root":
            ids.next_trace_id = int(entry["trace_id"], 16)
            ids.next_span_id = int(entry["root_span_id"], 16)
            start = int(entry["start_ns"])
            end = start + (SLOW_NS if kind == "slow" else 2_000_000)
            span = tracer.start_span("GET /items/{id}", kind=SpanKind.SERVER, start_time=start)
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.route", "/items/{id}")
            span.set_attribute("http.response.status_code", 500 if kind == "error" else 200)
            if kind == "security_event":
                span.add_event("security.violation", {"violation": "missing_permission"})
            if kind == "security_attribute":
                span.set_attribute("otel_distro.security.violation", "http_403")
            span.end(end_time=end)
        else:
            start = int(entry["start_ns"]) + 500_000
            span = tracer.start_span(
                "SELECT items", context=_context(entry), kind=SpanKind.CLIENT, start_time=start
            )
            if kind == "error":
                span.set_status(Status(StatusCode.ERROR, "query failed"))
            span.end(end_time=start + 1_000_000)
        logger.emit(
            context=trace.set_span_in_context(span),
            body="scaleout.span",
            severity_number=SeverityNumber.INFO,
            attributes={"kind": kind, "role": role},
        )
        spans.add(1, counted)
    provider.shutdown()
    logs.shutdown()
    meters.shutdown()
    print(f"{role}: sent {len(plan)} spans", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
