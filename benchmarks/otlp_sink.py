"""An OTLP/HTTP sink, run as its own process, that counts what it receives per service.

Run: ``python -m benchmarks.otlp_sink`` prints ``port <n>`` once it listens on
127.0.0.1.  Every ``POST .../v1/traces|logs|metrics`` (protobuf, gzip or not) is
acknowledged, then decoded and counted under its resource's ``service.name``:
spans, server spans whose name mentions ``/items``, log records, log records whose
body is the benchmark route's event (``item_read``), and metric data points.
``GET /counts`` answers the counts as JSON.  Decoding is the proof that the work
was really done: a sink that only acknowledged would also accept garbage.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
import zlib
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

APP_EVENT = "item_read"
ROUTE_MARK = "/items"
SPAN_KIND_SERVER = 2
FIELDS = ("spans", "server_spans", "logs", "app_logs", "points", "requests", "errors")

_lock = threading.Lock()
_counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))


def _service(resource: Any) -> str:
    for item in resource.attributes:
        if item.key == "service.name":
            return str(item.value.string_value)
    return "unknown"


def _add(service: str, field: str, amount: int) -> None:
    with _lock:
        _counts[service][field] += amount


def _count_traces(body: bytes) -> None:
    request = ExportTraceServiceRequest.FromString(body)
    for resource_spans in request.resource_spans:
        service = _service(resource_spans.resource)
        spans = server = 0
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                spans += 1
                server += span.kind == SPAN_KIND_SERVER and ROUTE_MARK in span.name
        _add(service, "spans", spans)
        _add(service, "server_spans", server)


def _body_text(value: Any) -> str:
    kind = value.WhichOneof("value")
    return str(getattr(value, kind)) if kind == "string_value" else ""


def _count_logs(body: bytes) -> None:
    request = ExportLogsServiceRequest.FromString(body)
    for resource_logs in request.resource_logs:
        service = _service(resource_logs.resource)
        logs = app = 0
        for scope in resource_logs.scope_logs:
            for record in scope.log_records:
                logs += 1
                app += APP_EVENT in _body_text(record.body)
        _add(service, "logs", logs)
        _add(service, "app_logs", app)


def _count_metrics(body: bytes) -> None:
    request = ExportMetricsServiceRequest.FromString(body)
    for resource_metrics in request.resource_metrics:
        service = _service(resource_metrics.resource)
        points = 0
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                if kind:
                    points += len(getattr(metric, kind).data_points)
        _add(service, "points", points)


_DECODERS = {"traces": _count_traces, "logs": _count_logs, "metrics": _count_metrics}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self._reply(b"", "application/x-protobuf")
        signal = self.path.rstrip("/").rsplit("/", 1)[-1]
        decoder = _DECODERS.get(signal)
        try:
            encoding = (self.headers.get("content-encoding") or "").lower()
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            if decoder is None:
                raise ValueError(f"unknown path {self.path}")
            decoder(body)
            _add("_sink", "requests", 1)
        except Exception as exc:  # a body we cannot decode is counted, not fatal
            _add("_sink", "errors", 1)
            print(f"sink: {self.path}: {exc!r}", file=sys.stderr, flush=True)

    def do_GET(self) -> None:
        with _lock:
            payload = json.dumps(_counts).encode()
        self._reply(payload, "application/json")

    def _reply(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        return None


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
