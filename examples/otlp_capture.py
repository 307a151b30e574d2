"""A small OTLP/HTTP receiver that keeps everything it is sent, for the demo and the tests.

It listens on 127.0.0.1 (a free port by default) and accepts ``POST /v1/traces``,
``/v1/logs`` and ``/v1/metrics`` with protobuf or JSON bodies, optionally gzip- or
deflate-compressed. Each payload is kept raw (as received, and decompressed) and
decoded with ``opentelemetry.proto``; :meth:`OtlpCapture.spans`, :meth:`~OtlpCapture.logs`
and :meth:`~OtlpCapture.metrics` flatten the decoded requests into plain dataclasses::

    with OtlpCapture() as capture:
        ...  # point OTEL_EXPORTER_OTLP_ENDPOINT at capture.endpoint
        capture.wait_for(lambda: capture.spans(name="GET /health"))
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
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

from otel_distro.testing._otlp import decode_any_value, decode_attributes

__all__ = [
    "CapturedLog",
    "CapturedMetricPoint",
    "CapturedSpan",
    "OtlpCapture",
    "Received",
    "SpanEvent",
    "SpanLink",
    "decode_any_value",
    "decode_attributes",
    "parse_otlp_json",
]

T = TypeVar("T")

_REQUESTS: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
    "metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
}
_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


# --- decoding -----------------------------------------------------------------
# decode_any_value / decode_attributes: the distro's own (otel_distro.testing), one decoder.


def _hex_ids_to_base64(node: Any) -> Any:
    # OTLP/JSON writes ids as hex; protobuf's JSON mapping expects base64 for bytes.
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                value = base64.b64encode(bytes.fromhex(value)).decode() if value else ""
            out[key] = _hex_ids_to_base64(value)
        return out
    return node


def parse_otlp_json(signal: str, payload: str | bytes | Mapping[str, Any]) -> Message:
    """Decode one OTLP/JSON export request (``signal`` is traces, logs or metrics)."""
    data = json.loads(payload) if isinstance(payload, (str, bytes)) else dict(payload)
    message = _REQUESTS[signal][0]()
    json_format.ParseDict(_hex_ids_to_base64(data), message, ignore_unknown_fields=True)
    return message


def _decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in {"", "identity"}:
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    msg = f"unsupported Content-Encoding {encoding!r}"
    raise ValueError(msg)


# --- flattened records ----------------------------------------------------------


@dataclass(frozen=True)
class SpanEvent:
    name: str
    attributes: dict[str, Any]
    time_unix_nano: int


@dataclass(frozen=True)
class SpanLink:
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class CapturedSpan:
    """One span, ids as lowercase hex (``parent_span_id`` is ``""`` for a root)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str  # SERVER, CLIENT, INTERNAL, PRODUCER, CONSUMER or UNSPECIFIED
    attributes: dict[str, Any]
    events: list[SpanEvent]
    links: list[SpanLink]
    status_code: str  # UNSET, OK or ERROR
    status_message: str
    resource: dict[str, Any]
    scope: str
    scope_version: str
    start_time_unix_nano: int
    end_time_unix_nano: int


@dataclass(frozen=True)
class CapturedLog:
    """One log record; ``trace_id``/``span_id`` are ``""`` outside a span."""

    body: Any
    attributes: dict[str, Any]
    trace_id: str
    span_id: str
    severity_number: int
    severity_text: str
    event_name: str
    resource: dict[str, Any]
    scope: str
    time_unix_nano: int


@dataclass(frozen=True)
class CapturedMetricPoint:
    """One data point of one metric; ``value`` is the sum/gauge value or histogram sum."""

    name: str
    type: str  # sum, gauge, histogram, exponential_histogram, summary
    attributes: dict[str, Any]
    value: float | int | None
    count: int | None
    unit: str
    resource: dict[str, Any]
    scope: str


@dataclass(frozen=True)
class Received:
    """One accepted export request."""

    signal: str  # traces, logs or metrics
    content_type: str
    content_encoding: str
    wire_body: bytes  # exactly as sent
    body: bytes  # decompressed
    request: Any  # the decoded Export*ServiceRequest
    headers: dict[str, str] = field(default_factory=dict)


def _spans_of(request: ExportTraceServiceRequest) -> list[CapturedSpan]:
    out = []
    for resource_spans in request.resource_spans:
        resource = decode_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(
                    CapturedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        attributes=decode_attributes(span.attributes),
                        events=[
                            SpanEvent(e.name, decode_attributes(e.attributes), e.time_unix_nano)
                            for e in span.events
                        ],
                        links=[
                            SpanLink(
                                link.trace_id.hex(),
                                link.span_id.hex(),
                                decode_attributes(link.attributes),
                            )
                            for link in span.links
                        ],
                        status_code=span.status.StatusCode.Name(span.status.code).removeprefix(
                            "STATUS_CODE_"
                        ),
                        status_message=span.status.message,
                        resource=resource,
                        scope=scope_spans.scope.name,
                        scope_version=scope_spans.scope.version,
                        start_time_unix_nano=span.start_time_unix_nano,
                        end_time_unix_nano=span.end_time_unix_nano,
                    )
                )
    return out


def _logs_of(request: ExportLogsServiceRequest) -> list[CapturedLog]:
    out = []
    for resource_logs in request.resource_logs:
        resource = decode_attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                out.append(
                    CapturedLog(
                        body=decode_any_value(record.body),
                        attributes=decode_attributes(record.attributes),
                        trace_id=record.trace_id.hex(),
                        span_id=record.span_id.hex(),
                        severity_number=int(record.severity_number),
                        severity_text=record.severity_text,
                        event_name=record.event_name,
                        resource=resource,
                        scope=scope_logs.scope.name,
                        time_unix_nano=record.time_unix_nano,
                    )
                )
    return out


def _metric_points_of(request: ExportMetricsServiceRequest) -> list[CapturedMetricPoint]:
    out = []
    for resource_metrics in request.resource_metrics:
        resource = decode_attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                for point in getattr(metric, kind).data_points:
                    value: float | int | None
                    count: int | None = None
                    if kind in {"sum", "gauge"}:
                        which = point.WhichOneof("value")
                        value = getattr(point, which) if which else None
                    else:
                        value, count = point.sum, point.count
                    out.append(
                        CapturedMetricPoint(
                            name=metric.name,
                            type=kind,
                            attributes=decode_attributes(point.attributes),
                            value=value,
                            count=count,
                            unit=metric.unit,
                            resource=resource,
                            scope=scope_metrics.scope.name,
                        )
                    )
    return out


def _matches(record: Any, filters: Mapping[str, Any]) -> bool:
    return all(getattr(record, key) == value for key, value in filters.items())


# --- the receiver -------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        signal = self.path.split("?", 1)[0].rstrip("/").removeprefix("/v1/")
        if signal not in _REQUESTS:
            self._reply(404, b"unknown OTLP path", "text/plain")
            return
        wire = self._read_body()
        content_type = self.headers.get("Content-Type", "application/x-protobuf")
        encoding = self.headers.get("Content-Encoding", "")
        is_json = "json" in content_type.lower()
        request_type, response_type = _REQUESTS[signal]
        try:
            body = _decompress(wire, encoding)
            if is_json:
                request: Message = parse_otlp_json(signal, body)
            else:
                request = request_type()
                request.ParseFromString(body)
        except (ValueError, OSError, DecodeError, json_format.ParseError) as exc:
            self.server.capture._record_error(f"{self.path}: {exc!r}")
            self._reply(400, str(exc).encode(), "text/plain")
            return
        status = self.server.capture.status_code
        if status == 200:
            self.server.capture._record(
                Received(signal, content_type, encoding, wire, body, request, dict(self.headers))
            )
        if is_json:
            self._reply(status, b"{}", "application/json")
        else:
            self._reply(status, response_type().SerializeToString(), "application/x-protobuf")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0], 16)
                chunk = self.rfile.read(size)
                self.rfile.readline()
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the receiver is not the thing under test."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    capture: OtlpCapture


class OtlpCapture:
    """An OTLP/HTTP receiver in a background thread; use as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()
        self._received: list[Received] = []
        self._errors: list[str] = []
        self.status_code = 200
        """HTTP status answered to exports; anything but 200 also drops the payload."""

    # lifecycle ------------------------------------------------------------------

    def start(self) -> OtlpCapture:
        if self._server is None:
            server = _Server(self._address, _Handler)
            server.capture = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, name="otlp-capture", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> OtlpCapture:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            msg = "the receiver is not running"
            raise RuntimeError(msg)
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """Base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/<signal>`` is appended)."""
        return f"http://127.0.0.1:{self.port}"

    # recording ------------------------------------------------------------------

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()

    def _record_error(self, error: str) -> None:
        with self._changed:
            self._errors.append(error)
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self._received.clear()
            self._errors.clear()

    # reading --------------------------------------------------------------------

    def received(self, signal: str | None = None) -> list[Received]:
        """Accepted export requests, oldest first, optionally of one signal."""
        with self._changed:
            return [r for r in self._received if signal is None or r.signal == signal]

    @property
    def errors(self) -> list[str]:
        """Payloads that could not be decoded (answered with 400)."""
        with self._changed:
            return list(self._errors)

    def spans(self, **filters: Any) -> list[CapturedSpan]:
        """All spans received, in arrival order; ``filters`` match fields exactly."""
        spans = [s for r in self.received("traces") for s in _spans_of(r.request)]
        return [s for s in spans if _matches(s, filters)]

    def logs(self, **filters: Any) -> list[CapturedLog]:
        logs = [rec for r in self.received("logs") for rec in _logs_of(r.request)]
        return [rec for rec in logs if _matches(rec, filters)]

    def metrics(self, **filters: Any) -> list[CapturedMetricPoint]:
        points = [p for r in self.received("metrics") for p in _metric_points_of(r.request)]
        return [p for p in points if _matches(p, filters)]

    def raw_bytes(self) -> bytes:
        """Every payload received, decompressed and concatenated (for "appears nowhere")."""
        return b"\n".join(r.body for r in self.received())

    def summary(self) -> str:
        """A one-paragraph account of what arrived, for failure messages."""
        spans, logs = self.spans(), self.logs()
        metric_names = sorted({p.name for p in self.metrics()})
        lines = [
            f"{len(self.received())} export requests; {len(spans)} spans, {len(logs)} logs, "
            f"{len(metric_names)} metrics",
            "spans: " + ", ".join(f"{s.name} [{s.kind}]" for s in spans[-30:]),
            "logs: " + ", ".join(repr(rec.body)[:60] for rec in logs[-15:]),
            "metrics: " + ", ".join(metric_names[:30]),
        ]
        if self.errors:
            lines.append("rejected: " + "; ".join(self.errors[-5:]))
        return "\n".join(lines)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 15.0, message: str = "") -> T:
        """Wait until ``predicate()`` is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.25))
        what = message or getattr(predicate, "__name__", "the condition")
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{self.summary()}")
