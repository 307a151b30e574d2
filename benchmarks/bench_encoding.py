"""OTLP protobuf encoding per span and per log record: otel-distro's encoders vs the SDK's.

Run: ``python -m benchmarks.bench_encoding [batch] [rounds]`` (defaults 512, 5).

The export thread encodes each batch while holding the GIL, so this is time the
request threads wait.  Batches look like what the benchmark app exports: server
spans with the usual dozen semconv attributes inside one request trace, and log
records with a handful of attributes inside a span.

* spans -- ``opentelemetry.exporter.otlp.proto.common`` ``encode_spans(...)
  .SerializeToString()``; and otel-distro's direct span encoder when
  ``otel_distro.exporters`` has one (looked up by the names in ``SPAN_ENCODERS``),
  checked byte-identical to the stock encoding before it is timed;
* logs  -- the SDK's ``encode_logs`` against ``encode_logs_request``
  (``otel_distro/exporters/_otlp_logs.py``), checked byte-identical the same way.

Each figure is the best of ``rounds`` interleaved rounds, in microseconds per item;
ratios are against the stock encoder measured in the same run.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.exporters._otlp_logs import encode_logs_request

# (module under otel_distro.exporters, function): a direct span encoder returning bytes
SPAN_ENCODERS = (
    ("_otlp_spans", "encode_spans_request"),
    ("_otlp_traces", "encode_spans_request"),
    ("_otlp_traces", "encode_traces_request"),
)
RESOURCE = Resource.create(
    {
        "service.name": "bench-api",
        "service.version": "1.4.2",
        "deployment.environment.name": "production",
        "host.name": "api-7f9c",
        "process.pid": 4242,
    }
)


def span_encoder() -> tuple[str, Callable[[Sequence[ReadableSpan]], bytes]] | None:
    """otel-distro's direct span encoder, if this version has one."""
    for module_name, function in SPAN_ENCODERS:
        try:
            module = importlib.import_module(f"otel_distro.exporters.{module_name}")
        except ImportError:
            continue
        found = getattr(module, function, None)
        if callable(found):
            return f"{module_name}.{function}", found
    return None


def server_spans(count: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("opentelemetry.instrumentation.asgi", "0.66b1")
    for n in range(count):
        attributes = {
            "http.request.method": "GET",
            "url.scheme": "http",
            "url.path": f"/items/{n}",
            "http.route": "/items/{item_id}",
            "server.address": "127.0.0.1",
            "server.port": 8000,
            "client.address": "127.0.0.1",
            "client.port": 40000 + n % 1000,
            "user_agent.original": "wrk/4.2.0",
            "network.protocol.version": "1.1",
            "http.response.status_code": 200,
            "tenant.id": f"t-{n % 17}",
        }
        with tracer.start_as_current_span(
            "GET /items/{item_id}", kind=trace.SpanKind.SERVER, attributes=attributes
        ):
            pass
    return list(memory.get_finished_spans())


def log_records(count: int) -> list[ReadableLogRecord]:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("otel_distro.logging")
    tracer = TracerProvider(resource=RESOURCE).get_tracer("bench")
    with tracer.start_as_current_span("GET /items/{item_id}"):
        for n in range(count):
            logger.emit(
                body="item_read",
                severity_text="INFO",
                attributes={
                    "logger.name": "benchmarks.server_app",
                    "item_id": str(n),
                    "source": "catalog",
                    "tenant.id": f"t-{n % 17}",
                },
            )
    return list(memory.get_finished_logs())


def per_item(fn: Callable[[], object], items: int) -> float:
    """Microseconds per item of one call of ``fn`` over a batch of ``items``."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) / items * 1e6


def compare(
    title: str, candidates: dict[str, Callable[[], bytes]], items: int, rounds: int
) -> dict[str, float]:
    """Check every candidate's bytes equal the first's, then time them interleaved."""
    reference = next(iter(candidates.values()))()
    for name, fn in candidates.items():
        if fn() != reference:
            raise SystemExit(f"{title}: {name} does not produce the stock encoding's bytes")
    best = {name: float("inf") for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            best[name] = min(best[name], per_item(fn, items))
    stock = next(iter(best.values()))
    print(f"{title} (batch of {items}, {len(reference) / items:.0f} bytes per item):")
    for name, value in best.items():
        print(f"  {name:38} {value:7.1f} us/item   {value / stock:5.2f}x stock")
    return best


def main(argv: list[str]) -> None:
    batch = int(argv[0]) if argv else 512
    rounds = int(argv[1]) if len(argv) > 1 else 5
    spans = server_spans(batch)
    span_candidates: dict[str, Callable[[], bytes]] = {
        "stock encode_spans": lambda: encode_spans(spans).SerializeToString(),
    }
    ours = span_encoder()
    if ours is None:
        print("spans: otel_distro.exporters has no direct span encoder yet: stock measured alone")
    else:
        name, encoder = ours
        span_candidates[f"otel-distro {name}"] = lambda: encoder(spans)
    compare("spans", span_candidates, batch, rounds)
    logs: list[Any] = log_records(batch)
    compare(
        "logs",
        {
            "stock encode_logs": lambda: encode_logs(logs).SerializeToString(),
            "otel-distro encode_logs_request": lambda: encode_logs_request(logs),
        },
        batch,
        rounds,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
