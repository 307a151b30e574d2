"""Helpers for the ``RecordWriter`` tests (``tests/logs/records``): one event through the
writer or through the SDK's ``Logger.emit``, and record-by-record comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs._internal import _LoggerConfig
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from otel_distro.exporters._otlp_logs import encode_logs_request
from otel_distro.logging._emit import SCOPE
from otel_distro.logging._records import RecordWriter
from otel_distro.processors.baggage import BaggageAttributesLogProcessor
from otel_distro.processors.redaction import RedactingLogRecordProcessor

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0x00F067AA0BA902B7
SPAN_CONTEXT = SpanContext(TRACE_ID, SPAN_ID, False, TraceFlags(TraceFlags.SAMPLED))
SPAN_IN_CONTEXT = trace.set_span_in_context(NonRecordingSpan(SPAN_CONTEXT))

# Every scalar kind a cleaned event can carry.
SCALARS: dict[str, Any] = {
    "text": "acme",
    "empty": "",
    "unicode": "caf\u00e9 \u2603 \U0001f600",
    "zero": 0,
    "negative": -42,
    "int64.max": 2**63 - 1,
    "int64.min": -(2**63),
    "ratio": 0.25,
    "negative.zero": -0.0,
    "huge.float": 1.5e300,
    "yes": True,
    "no": False,
    "nothing": None,
    "logger.name": "app.sites",
}

EVENTS: list[dict[str, Any]] = [
    {},
    {"body": "caf\u00e9", "severity": (SeverityNumber.ERROR, "ERROR")},
    {"severity": (SeverityNumber.FATAL, "FATAL"), "ts_ns": 1},
    {"severity": (SeverityNumber.UNSPECIFIED, "UNSPECIFIED"), "attributes": {}},
    {"attributes": {"only": "one"}, "severity": (SeverityNumber.DEBUG, "DEBUG")},
]


def writer_for(provider: Any) -> RecordWriter:
    return RecordWriter(provider.get_logger(SCOPE))


def write(
    writer: RecordWriter,
    body: Any = "site_created",
    attributes: dict[str, Any] | None = None,
    context: Context | None = SPAN_IN_CONTEXT,
    span_context: SpanContext | None = SPAN_CONTEXT,
    ts_ns: int = 1_700_000_000_123_456_789,
    severity: tuple[SeverityNumber, str] = (SeverityNumber.WARN, "WARN"),
) -> None:
    """One event through the writer, as ``Pipeline._emit`` passes it."""
    writer.emit(
        ts_ns,
        context,
        span_context,
        severity[0],
        severity[1],
        body,
        dict(SCALARS if attributes is None else attributes),
    )


def write_stock(
    provider: LoggerProvider,
    body: Any = "site_created",
    attributes: dict[str, Any] | None = None,
    context: Context | None = SPAN_IN_CONTEXT,
    ts_ns: int = 1_700_000_000_123_456_789,
    severity: tuple[SeverityNumber, str] = (SeverityNumber.WARN, "WARN"),
) -> None:
    """The same event through the SDK's own ``Logger.emit`` (what the bridge did before)."""
    provider.get_logger(SCOPE).emit(
        LogRecord(
            timestamp=ts_ns,
            observed_timestamp=ts_ns,
            context=context,
            severity_number=severity[0],
            severity_text=severity[1],
            body=body,
            attributes=dict(SCALARS if attributes is None else attributes),
        )
    )


def exported(provider: LoggerProvider, exporter: InMemoryLogRecordExporter) -> list[Any]:
    provider.force_flush()
    return list(exporter.get_finished_logs())


def assert_same_record(ours: ReadableLogRecord, stock: ReadableLogRecord) -> None:
    """Field by field, as JSON and as OTLP bytes."""
    assert type(ours) is type(stock)
    assert ours.to_json() == stock.to_json()
    mine, theirs = ours.log_record, stock.log_record
    assert isinstance(mine, LogRecord)
    for name in (
        "timestamp",
        "observed_timestamp",
        "trace_id",
        "span_id",
        "trace_flags",
        "severity_text",
        "severity_number",
        "body",
        "event_name",
        "exception",
    ):
        assert getattr(mine, name) == getattr(theirs, name), name
        assert type(getattr(mine, name)) is type(getattr(theirs, name)), name
    assert dict(mine.context or {}) == dict(theirs.context or {})
    assert type(mine.attributes) is type(theirs.attributes)
    assert dict(mine.attributes or {}) == dict(theirs.attributes or {})
    assert [type(v) for v in (mine.attributes or {}).values()] == [
        type(v) for v in (theirs.attributes or {}).values()
    ]
    assert ours.dropped_attributes == stock.dropped_attributes
    assert ours.resource == stock.resource
    assert ours.instrumentation_scope == stock.instrumentation_scope
    assert ours.limits is not None and stock.limits is not None
    assert repr(ours.limits) == repr(stock.limits)
    stock_bytes = encode_logs([stock]).SerializeToString()
    assert encode_logs_request([ours]) == stock_bytes
    assert encode_logs([ours]).SerializeToString() == stock_bytes


class Mark(LogRecordProcessor):
    """A user processor: tags each record and remembers what it was given."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.seen.append(log_record)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def twin_providers(
    make_provider: Callable[..., LoggerProvider], route: str, resource: Resource
) -> tuple[tuple[LoggerProvider, InMemoryLogRecordExporter], ...]:
    pairs = []
    for _ in range(2):
        exporter = InMemoryLogRecordExporter()
        sink: LogRecordProcessor = (
            BatchLogRecordProcessor(exporter)
            if route == "batches"
            else SimpleLogRecordProcessor(exporter)
        )
        provider = make_provider(
            BaggageAttributesLogProcessor(("tenant.id",)),
            RedactingLogRecordProcessor(),
            sink,
            resource=resource,
        )
        pairs.append((provider, exporter))
    return tuple(pairs)


def disabling(scope_name: str) -> Callable[[Any], _LoggerConfig]:
    def configurator(scope: Any) -> _LoggerConfig:
        return _LoggerConfig(is_enabled=scope.name != scope_name)

    return configurator
