"""Exporters: OTLP JSON lines files (the first-run fallback) and endpoint probing.

The files use the Collector file exporter's format: one OTLP/JSON export
request per line (hex trace/span ids, camelCase fields), so the same tools
read what the app and the Collector write.  Files rotate by size.  Exporters
never raise into the SDK: a failed write returns FAILURE.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_distro._report import internal_error

__all__ = [
    "FileLogExporter",
    "FileMetricExporter",
    "FileSpanExporter",
    "JsonLinesWriter",
    "endpoint_reachable",
    "otlp_json_line",
]

DEFAULT_DIR = "telemetry"
MAX_FILE_BYTES = 16 * 1024 * 1024
BACKUPS = 3
_ID_FIELDS = frozenset(("traceId", "spanId", "parentSpanId"))


def _hex_ids(node: Any) -> Any:
    """Protobuf JSON renders bytes as base64; OTLP/JSON wants hex trace/span ids."""
    if isinstance(node, dict):
        return {
            key: (
                base64.b64decode(value).hex()
                if key in _ID_FIELDS and isinstance(value, str)
                else _hex_ids(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def otlp_json_line(message: Message) -> str:
    """One OTLP export request as a single OTLP/JSON line."""
    as_dict = MessageToDict(message, use_integers_for_enums=True)
    return json.dumps(_hex_ids(as_dict), separators=(",", ":"), ensure_ascii=False)


class JsonLinesWriter:
    """Appends lines to a size-rotated file; thread-safe; never raises."""

    def __init__(self, path: Path, max_bytes: int = MAX_FILE_BYTES, backups: int = BACKUPS):
        self.path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._lock = threading.Lock()

    def write(self, line: str) -> bool:
        data = (line + "\n").encode("utf-8")
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    size = self.path.stat().st_size
                except FileNotFoundError:
                    size = 0
                if size and size + len(data) > self._max_bytes:
                    self._rotate()
                with self.path.open("ab") as handle:
                    handle.write(data)
            return True
        except OSError:
            return False

    def _rotate(self) -> None:
        for index in range(self._backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
        if self._backups > 0:
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)


def _write_request(writer: JsonLinesWriter, encode: Callable[[Any], Message], batch: Any) -> bool:
    """Encode one batch as an export request and append it; False on any failure."""
    try:
        return writer.write(otlp_json_line(encode(batch)))
    except Exception:  # write() returns False on OSError: this failed encoding the batch
        internal_error("exporters.files")
        return False


def _directory(directory: str | os.PathLike[str] | None) -> Path:
    if directory is not None:
        return Path(directory)
    from otel_distro.config import get_settings

    return Path(get_settings().file_fallback_dir)


class FileSpanExporter(SpanExporter):
    """Writes spans as OTLP JSON lines to ``<dir>/traces.jsonl``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.writer = JsonLinesWriter(_directory(directory) / "traces.jsonl")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = _write_request(self.writer, encode_spans, spans)
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class FileLogExporter(LogRecordExporter):
    """Writes log records as OTLP JSON lines to ``<dir>/logs.jsonl``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.writer = JsonLinesWriter(_directory(directory) / "logs.jsonl")

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        ok = _write_request(self.writer, encode_logs, batch)
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class FileMetricExporter(MetricExporter):
    """Writes metrics as OTLP JSON lines to ``<dir>/metrics.jsonl``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.writer = JsonLinesWriter(_directory(directory) / "metrics.jsonl")

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        ok = _write_request(self.writer, encode_metrics, metrics_data)
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


def endpoint_reachable(endpoint: str, timeout: float = 0.3) -> bool:
    """Whether a TCP connection to the endpoint's host and port succeeds quickly."""
    try:
        parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False
