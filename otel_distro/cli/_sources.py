"""Where traces are read from: OTLP-JSON files (ours and the Collector's) or Jaeger's HTTP API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx

from otel_distro.cli._model import LogView, SpanView, TraceView, build_trace

__all__ = ["FileSource", "JaegerSource", "SourceError", "TraceSource", "default_dirs"]

_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR", "STATUS_CODE_UNSET": "UNSET"}
_STATUS.update({"STATUS_CODE_OK": "OK", "STATUS_CODE_ERROR": "ERROR"})
_KINDS = ("", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_SEVERITY_TEXT = (
    (21, "FATAL"),
    (17, "ERROR"),
    (13, "WARN"),
    (9, "INFO"),
    (5, "DEBUG"),
    (1, "TRACE"),
)
MAX_LINE_BYTES = 64 * 1024 * 1024


class TraceSource(Protocol):
    """Something traces can be read from."""

    def describe(self) -> str: ...

    def trace(self, trace_id: str) -> TraceView | None: ...

    def latest(self, service: str | None, limit: int) -> list[TraceView]: ...


class SourceError(RuntimeError):
    """A source could not be read; the message says which and why."""


def default_dirs(fallback_dir: str) -> list[Path]:
    """The embedded fallback's folder and the local Collector's file output."""
    return [Path(fallback_dir), Path("telemetry") / "collector"]


def _value(node: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain value."""
    if not isinstance(node, dict):
        return node
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in node:
            return node[key]
    if "intValue" in node:
        try:
            return int(node["intValue"])
        except (TypeError, ValueError):
            return node["intValue"]
    if "arrayValue" in node:
        return [_value(item) for item in node["arrayValue"].get("values", [])]
    if "kvlistValue" in node:
        return _attributes(node["kvlistValue"].get("values", []))
    if "bytesValue" in node:
        return node["bytesValue"]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "key" in item:
            found[str(item["key"])] = _value(item.get("value"))
    return found


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return value.removeprefix("SPAN_KIND_")
    index = _int(value)
    return _KINDS[index] if 0 <= index < len(_KINDS) else ""


def _severity(record: dict[str, Any]) -> str:
    text = record.get("severityText")
    if isinstance(text, str) and text:
        return text.upper()
    number = _int(record.get("severityNumber"))
    if isinstance(record.get("severityNumber"), str):
        return str(record["severityNumber"]).removeprefix("SEVERITY_NUMBER_")
    return next((name for low, name in _SEVERITY_TEXT if number >= low), "LOG")


def _json_lines(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        try:
            with path.open("rb") as handle:
                for raw in handle:
                    if len(raw) > MAX_LINE_BYTES or not raw.strip():
                        continue
                    try:
                        line = json.loads(raw)
                    except ValueError:
                        continue  # a line cut by rotation or a crash
                    if isinstance(line, dict):
                        yield line
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None


class FileSource:
    """OTLP-JSON lines (one export request per line) in one or more folders."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    def describe(self) -> str:
        return "files in " + ", ".join(str(d) for d in self.dirs)

    def _files(self, signal: str) -> list[Path]:
        found: list[Path] = []
        for directory in self.dirs:
            if directory.is_dir():
                found.extend(sorted(directory.glob(f"{signal}*.jsonl")))
        return found

    def _spans(self) -> Iterator[SpanView]:
        for line in _json_lines(self._files("traces")):
            for rs in line.get("resourceSpans") or []:
                resource = _attributes((rs.get("resource") or {}).get("attributes"))
                service = str(resource.get("service.name", "unknown"))
                for ss in rs.get("scopeSpans") or []:
                    for raw in ss.get("spans") or []:
                        yield self._span(raw, service)

    @staticmethod
    def _span(raw: dict[str, Any], service: str) -> SpanView:
        status = raw.get("status") or {}
        span = SpanView(
            trace_id=str(raw.get("traceId", "")).lower(),
            span_id=str(raw.get("spanId", "")).lower(),
            parent_id=str(raw.get("parentSpanId", "")).lower(),
            name=str(raw.get("name", "")),
            service=service,
            start_ns=_int(raw.get("startTimeUnixNano")),
            end_ns=_int(raw.get("endTimeUnixNano")),
            status=_STATUS.get(status.get("code", 0), "UNSET"),
            status_message=str(status.get("message", "")),
            kind=_kind(raw.get("kind")),
            attributes=_attributes(raw.get("attributes")),
        )
        for event in raw.get("events") or []:
            span.logs.append(
                LogView(
                    time_ns=_int(event.get("timeUnixNano")),
                    severity="EVENT",
                    body=str(event.get("name", "")),
                    attributes=_attributes(event.get("attributes")),
                    source="event",
                )
            )
        return span

    def _logs(self, trace_id: str) -> list[tuple[str, LogView]]:
        found: list[tuple[str, LogView]] = []
        for line in _json_lines(self._files("logs")):
            for rl in line.get("resourceLogs") or []:
                for sl in rl.get("scopeLogs") or []:
                    for record in sl.get("logRecords") or []:
                        if str(record.get("traceId", "")).lower() != trace_id:
                            continue
                        body = _value(record.get("body"))
                        found.append(
                            (
                                str(record.get("spanId", "")).lower(),
                                LogView(
                                    time_ns=_int(record.get("timeUnixNano"))
                                    or _int(record.get("observedTimeUnixNano")),
                                    severity=_severity(record),
                                    body="" if body is None else str(body),
                                    attributes=_attributes(record.get("attributes")),
                                ),
                            )
                        )
        return found

    def trace(self, trace_id: str) -> TraceView | None:
        trace_id = trace_id.lower()
        spans = {s.span_id: s for s in self._spans() if s.trace_id == trace_id}
        if not spans:
            return None
        return build_trace(trace_id, list(spans.values()), self._logs(trace_id))

    def latest(self, service: str | None, limit: int) -> list[TraceView]:
        traces: dict[str, dict[str, SpanView]] = {}
        for span in self._spans():
            traces.setdefault(span.trace_id, {})[span.span_id] = span
        views = [
            build_trace(trace_id, list(spans.values()), [])
            for trace_id, spans in traces.items()
            if service is None or any(s.service == service for s in spans.values())
        ]
        views.sort(key=lambda view: view.start_ns, reverse=True)
        return views[:limit]


class JaegerSource:
    """Jaeger's HTTP query API (``/api/traces``, ``/api/services``)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def describe(self) -> str:
        return f"Jaeger at {self.url}"

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = httpx.get(f"{self.url}{path}", params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SourceError(
                f"Jaeger at {self.url} does not answer ({type(exc).__name__})"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SourceError(f"Jaeger at {self.url} answered {response.status_code} for {path}")
        try:
            return response.json()
        except ValueError:
            raise SourceError(f"Jaeger at {self.url} sent no JSON for {path}") from None

    def services(self) -> list[str]:
        body = self._get("/api/services") or {}
        return [str(name) for name in body.get("data") or []]

    @staticmethod
    def _convert(data: dict[str, Any]) -> TraceView:
        processes = data.get("processes") or {}
        spans: list[SpanView] = []
        for raw in data.get("spans") or []:
            tags = {str(t.get("key")): t.get("value") for t in raw.get("tags") or []}
            parent = next(
                (
                    str(r.get("spanID", ""))
                    for r in raw.get("references") or []
                    if r.get("refType") == "CHILD_OF"
                ),
                "",
            )
            start_ns = _int(raw.get("startTime")) * 1000
            error = tags.get("otel.status_code") == "ERROR" or tags.get("error") in (True, "true")
            span = SpanView(
                trace_id=str(raw.get("traceID", "")).lower().rjust(32, "0"),
                span_id=str(raw.get("spanID", "")).lower(),
                parent_id=parent.lower(),
                name=str(raw.get("operationName", "")),
                service=str(
                    (processes.get(raw.get("processID")) or {}).get("serviceName", "unknown")
                ),
                start_ns=start_ns,
                end_ns=start_ns + _int(raw.get("duration")) * 1000,
                status="ERROR" if error else str(tags.get("otel.status_code", "UNSET")),
                status_message=str(tags.get("otel.status_description", "")),
                kind=str(tags.get("span.kind", "")).upper(),
                attributes=tags,
            )
            for log in raw.get("logs") or []:
                fields = {str(f.get("key")): f.get("value") for f in log.get("fields") or []}
                span.logs.append(
                    LogView(
                        time_ns=_int(log.get("timestamp")) * 1000,
                        severity="EVENT",
                        body=str(fields.pop("event", "")),
                        attributes=fields,
                        source="event",
                    )
                )
            spans.append(span)
        trace_id = spans[0].trace_id if spans else str(data.get("traceID", ""))
        return build_trace(trace_id, spans, [])

    def trace(self, trace_id: str) -> TraceView | None:
        body = self._get(f"/api/traces/{trace_id.lower()}") or {}
        data = body.get("data") or []
        return self._convert(data[0]) if data else None

    def latest(self, service: str | None, limit: int) -> list[TraceView]:
        views: list[TraceView] = []
        now_us = int(time.time() * 1_000_000)
        window = {"start": str(now_us - 3_600_000_000), "end": str(now_us + 60_000_000)}
        for name in [service] if service else self.services():
            params = {"service": name, "limit": str(limit), **window}
            body = self._get("/api/traces", params)
            views.extend(self._convert(data) for data in (body or {}).get("data") or [])
        unique = {view.trace_id: view for view in views}
        return sorted(unique.values(), key=lambda view: view.start_ns, reverse=True)[:limit]
