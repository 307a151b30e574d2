"""Spans per second through agent -> two gateways -> Jaeger (Badger), real binaries.

The two-tier stack of ``make stack TOPOLOGY=gateway`` is started on free ports
with every trace kept (sampling 100 %, so the whole stream reaches Jaeger).
OTLP/HTTP export requests are encoded before the clock starts and posted to the
agent by two threads, so the senders cost little; the clock stops when both
gateways have exported every span (their file output counts them) and the last
traces are readable in Jaeger. The CPU seconds each process used name the
bottleneck (and how many spans/s one core could carry through it); the load average
says how much of the shared machine the stack had. Run:
``python -m benchmarks.bench_scaleout [SPANS]``.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.integration.gateway_stack import GATEWAYS, NAMES, GatewayStack, start_gateway_stack

SPANS_PER_TRACE = 5
TRACES_PER_REQUEST = 100
SENDERS = 2


def _requests(total_spans: int) -> tuple[list[bytes], list[str]]:
    rng = random.Random(7)
    now = time.time_ns()
    bodies: list[bytes] = []
    trace_ids: list[str] = []
    traces = total_spans // SPANS_PER_TRACE
    for first in range(0, traces, TRACES_PER_REQUEST):
        spans = []
        for _ in range(min(TRACES_PER_REQUEST, traces - first)):
            trace_id = rng.getrandbits(128).to_bytes(16, "big")
            trace_ids.append(trace_id.hex())
            root = rng.getrandbits(64).to_bytes(8, "big")
            for index in range(SPANS_PER_TRACE):
                span_id = root if index == 0 else rng.getrandbits(64).to_bytes(8, "big")
                spans.append(
                    Span(
                        trace_id=trace_id,
                        span_id=span_id,
                        parent_span_id=b"" if index == 0 else root,
                        name="GET /items/{id}" if index == 0 else f"step {index}",
                        kind=Span.SPAN_KIND_SERVER if index == 0 else Span.SPAN_KIND_INTERNAL,
                        start_time_unix_nano=now,
                        end_time_unix_nano=now + 1_000_000,
                        attributes=[
                            KeyValue(key="http.route", value=AnyValue(string_value="/items/{id}"))
                        ],
                    )
                )
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    resource=Resource(
                        attributes=[
                            KeyValue(key="service.name", value=AnyValue(string_value="bench"))
                        ]
                    ),
                    scope_spans=[ScopeSpans(spans=spans)],
                )
            ]
        )
        bodies.append(request.SerializeToString())
    return bodies, trace_ids


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process (and its waited-for children), in seconds."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / 100.0


def _exported_spans(stack: GatewayStack) -> int:
    """Spans in the gateways' traces files, counted by their ``"spanId"`` keys: parsing
    the growing files at every poll would cost this process more CPU than the stack."""
    count = 0
    for gateway in GATEWAYS:
        for path in (stack.output_dir / gateway).glob("traces*.jsonl"):
            count += path.read_bytes().count(b'"spanId":')
    return count


def _send(url: str, bodies: list[bytes]) -> None:
    with httpx.Client(timeout=60.0) as client:
        for body in bodies:
            response = client.post(
                url, content=body, headers={"Content-Type": "application/x-protobuf"}
            )
            response.raise_for_status()


def main(total_spans: int) -> None:
    bodies, trace_ids = _requests(total_spans)
    total = len(trace_ids) * SPANS_PER_TRACE
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_gateway_stack(
            Path(tmp),
            {
                "OTELCOL_TAIL_SAMPLING_PERCENTAGE": "100",
                "OTELCOL_TAIL_DECISION_WAIT": "1s",
                "OTELCOL_TAIL_NUM_TRACES": str(len(trace_ids) + 1000),
                "OTELCOL_TAIL_EXPECTED_TRACES_PER_SEC": "10000",
            },
        )
        try:
            cpu_before = {name: _cpu_seconds(stack.pid(name)) for name in NAMES}
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            url = f"{stack.otlp_http_endpoint}/v1/traces"
            threads = [
                threading.Thread(target=_send, args=(url, bodies[i::SENDERS]))
                for i in range(SENDERS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sent = time.perf_counter() - started
            deadline = time.monotonic() + 600
            while _exported_spans(stack) < total and time.monotonic() < deadline:
                time.sleep(0.5)
            exported = time.perf_counter() - started
            for trace_id in trace_ids[-5:]:
                stack.wait_for_trace(trace_id, min_spans=SPANS_PER_TRACE, timeout=120)
            stored = time.perf_counter() - started
            cpu = {name: _cpu_seconds(stack.pid(name)) - cpu_before[name] for name in NAMES}
            load_after = os.getloadavg()[0]
        finally:
            stack.stop()
    print(f"spans: {total} ({len(trace_ids)} traces of {SPANS_PER_TRACE}), tail decision wait 1 s")
    print(f"accepted by the agent in {sent:.1f} s: {total / sent:,.0f} spans/s")
    print(f"exported by the gateways in {exported:.1f} s: {total / exported:,.0f} spans/s")
    print(f"readable in Jaeger after {stored:.1f} s: {total / stored:,.0f} spans/s end to end")
    for name, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  cpu {name:<10} {seconds:6.1f} s  ({seconds * 1e6 / total:5.1f} us/span)")
    busiest = max(cpu, key=lambda name: cpu[name])
    per_span = cpu[busiest] / total
    print(
        f"CPU bottleneck: {busiest} (most CPU per span): one core carries at most"
        f" {1 / per_span:,.0f} spans/s through it"
    )
    print(
        f"the stack used {sum(cpu.values()):.1f} CPU s in {stored:.1f} s on"
        f" {os.cpu_count()} cores; load average {load_before:.1f} -> {load_after:.1f}"
        " (the rest of the wall time: the tail decision wait and other processes' CPU)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
