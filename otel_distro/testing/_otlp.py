"""An OTLP/HTTP receiver on 127.0.0.1 that adds what a real process exports to a capture.

For a real launch (``opentelemetry-instrument uvicorn app:app``): point
``OTEL_EXPORTER_OTLP_ENDPOINT`` at :attr:`OtlpReceiver.endpoint`; the spans, log
records and metric points it receives (protobuf or JSON, gzip or not) are decoded
into the same records as the in-process ones.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otel_distro.testing._records import LogRecord, SpanEvent, SpanRecord

__all__ = ["OtlpReceiver", "RemotePoint", "decode_any_value", "decode_attributes"]

_REQUESTS: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
    "metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
}
_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_CUMULATIVE = 2  # AGGREGATION_TEMPORALITY_CUMULATIVE
_MAX_BODY = 64 * 1024 * 1024

# (metric name, "sum" | "gauge" | "histogram", cumulative, attributes, value, count)
RemotePoint = tuple[str, str, bool, dict[str, Any], float, "int | None"]


def decode_any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as plain Python (arrays -> list, kvlists -> dict; ``Any``, as the
    records' values: compared with an application's own literals)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decode_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return decode_attributes(value.kvlist_value.values)
    return getattr(value, kind)


def decode_attributes(items: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP attributes as a plain dict."""
    return {item.key: decode_any_value(item.value) for item in items}


def _hex(raw: bytes) -> str | None:
    return raw.hex() if raw and any(raw) else None


def _spans(request: ExportTraceServiceRequest) -> list[SpanRecord]:
    found = []
    for resource_spans in request.resource_spans:
        resource = decode_attributes(resource_spans.resource.attributes)
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                status = span.status.code
                found.append(
                    SpanRecord(
                        name=span.name,
                        kind=(
                            "UNSPECIFIED",
                            "INTERNAL",
                            "SERVER",
                            "CLIENT",
                            "PRODUCER",
                            "CONSUMER",
                        )[span.kind],
                        trace_id=_hex(span.trace_id) or "",
                        span_id=_hex(span.span_id) or "",
                        parent_span_id=_hex(span.parent_span_id),
                        attributes=decode_attributes(span.attributes),
                        events=tuple(
                            SpanEvent(e.name, decode_attributes(e.attributes)) for e in span.events
                        ),
                        status=("UNSET", "OK", "ERROR")[status],
                        status_description=span.status.message or None,
                        resource=resource,
                    )
                )
    return found


def _logs(request: ExportLogsServiceRequest) -> list[LogRecord]:
    found = []
    for resource_logs in request.resource_logs:
        for scope in resource_logs.scope_logs:
            for record in scope.log_records:
                found.append(
                    LogRecord(
                        event=decode_any_value(record.body),
                        level=record.severity_text,
                        severity_number=int(record.severity_number),
                        attributes=decode_attributes(record.attributes),
                        trace_id=_hex(record.trace_id),
                        span_id=_hex(record.span_id),
                        logger=scope.scope.name or None,
                    )
                )
    return found


def _points(request: ExportMetricsServiceRequest) -> list[RemotePoint]:
    found: list[RemotePoint] = []
    for resource_metrics in request.resource_metrics:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                data: Any = getattr(metric, kind) if kind else None
                if kind in ("sum", "gauge"):
                    cumulative = kind == "gauge" or data.aggregation_temporality == _CUMULATIVE
                    for p in data.data_points:
                        number = p.as_int if p.WhichOneof("value") == "as_int" else p.as_double
                        found.append(
                            (
                                metric.name,
                                kind,
                                cumulative,
                                decode_attributes(p.attributes),
                                number,
                                None,
                            )
                        )
                elif kind == "histogram":
                    cumulative = data.aggregation_temporality == _CUMULATIVE
                    for p in data.data_points:
                        attributes = decode_attributes(p.attributes)
                        found.append(
                            (metric.name, kind, cumulative, attributes, p.sum, int(p.count))
                        )
    return found


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        signal = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if signal not in _REQUESTS:
            self._reply(404, b"unknown OTLP path", "text/plain")
            return
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(min(length, _MAX_BODY))
        is_json = "json" in self.headers.get("Content-Type", "").lower()
        request_type, response_type = _REQUESTS[signal]
        try:
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            request = request_type()
            if is_json:
                json_format.Parse(body, request, ignore_unknown_fields=True)
            else:
                request.ParseFromString(body)
            self.server.sink(signal, request)
        except Exception as exc:
            self._reply(400, type(exc).__name__.encode(), "text/plain")
            return
        if is_json:
            self._reply(200, b"{}", "application/json")
        else:
            self._reply(200, response_type().SerializeToString(), "application/x-protobuf")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the receiver is not what the test is about."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sink: Callable[[str, Message], None]


class OtlpReceiver:
    """Decoded spans, log records and metric points received over OTLP/HTTP."""

    def __init__(self) -> None:
        self.spans: list[SpanRecord] = []
        self.logs: list[LogRecord] = []
        self.points: list[RemotePoint] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self._receive
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="otel-capture-otlp", daemon=True
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """The base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _receive(self, signal: str, request: Message) -> None:
        with self._lock:
            if isinstance(request, ExportTraceServiceRequest):
                self.spans.extend(_spans(request))
            elif isinstance(request, ExportLogsServiceRequest):
                self.logs.extend(_logs(request))
            elif isinstance(request, ExportMetricsServiceRequest):
                self.points.extend(_points(request))

    def snapshot(self) -> tuple[list[SpanRecord], list[LogRecord], list[RemotePoint]]:
        """Copies of what was received so far."""
        with self._lock:
            return list(self.spans), list(self.logs), list(self.points)

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self.spans.clear()
            self.logs.clear()
            self.points.clear()

    def stop(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
