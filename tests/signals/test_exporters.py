"""File exporters write the Collector's OTLP JSON lines format and rotate by size."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind

from otel_distro.exporters.files import FileSpanExporter, JsonLinesWriter, endpoint_reachable
from otel_distro.processors.sampling import DropAsgiInternalSpans


def test_spans_are_written_as_otlp_json_lines(tmp_path: Path) -> None:
    """One line per export, hex trace/span ids, camelCase fields."""
    exporter = FileSpanExporter(tmp_path)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("work", attributes={"k": "v"}) as span:
        pass
    line = (tmp_path / "traces.jsonl").read_text().splitlines()[0]
    exported = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert exported["traceId"] == format(span.get_span_context().trace_id, "032x")
    assert exported["spanId"] == format(span.get_span_context().span_id, "016x")
    assert exported["attributes"] == [{"key": "k", "value": {"stringValue": "v"}}]


def test_writer_rotates_and_keeps_backups(tmp_path: Path) -> None:
    writer = JsonLinesWriter(tmp_path / "x.jsonl", max_bytes=100, backups=2)
    for i in range(10):
        assert writer.write(json.dumps({"i": i, "pad": "x" * 30}))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["x.jsonl", "x.jsonl.1", "x.jsonl.2"]
    assert all(p.stat().st_size <= 100 for p in tmp_path.iterdir())


def test_unwritable_folder_fails_quietly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert JsonLinesWriter(blocker / "x.jsonl").write("{}") is False


def test_endpoint_probe(tmp_path: Path) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert endpoint_reachable(f"http://127.0.0.1:{port}")
    assert not endpoint_reachable(f"http://127.0.0.1:{port}")
    assert not endpoint_reachable("not a url at all:::")


def test_asgi_internal_spans_are_dropped() -> None:
    """The sampler drops only INTERNAL `... http send/receive` spans."""
    sampler = DropAsgiInternalSpans(ALWAYS_ON)
    drop = sampler.should_sample(None, 1, "GET /x http send", SpanKind.INTERNAL)
    keep_server = sampler.should_sample(None, 1, "GET /x http send", SpanKind.SERVER)
    keep_other = sampler.should_sample(None, 1, "GET /x", SpanKind.INTERNAL)
    assert not drop.decision.is_sampled()
    assert keep_server.decision.is_sampled() and keep_other.decision.is_sampled()
