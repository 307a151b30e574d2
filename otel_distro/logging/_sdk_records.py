"""SDK log records built from finished events, and the check that they equal the SDK's own.

:class:`~otel_distro.logging._records.RecordWriter` builds the records the SDK's
``Logger.emit`` (and its batch processor's copy) would build; :func:`same_as_sdk`
compares both for one probe event before the writer takes that route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypeVar

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext, TraceFlags
from opentelemetry.util.types import AnyValue

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import Logger as SdkLogger
    from opentelemetry.sdk._logs import ReadableLogRecord, ReadWriteLogRecord
    from opentelemetry.sdk.resources import Resource

__all__ = ["NO_CONTEXT", "Event", "SdkRecord", "build", "ids", "same_as_sdk"]

NO_CONTEXT = Context()
_NO_FLAGS = TraceFlags.get_default()  # what an invalid span context carries

# (timestamp, context, span context, severity number, severity text, body)
Event: TypeAlias = "tuple[int, Context | None, SpanContext | None, SeverityNumber, str, AnyValue]"
#: The two SDK record classes a writer builds (queued to batches, or handed to processors).
SdkRecord = TypeVar("SdkRecord", "ReadableLogRecord", "ReadWriteLogRecord")


class _Record(LogRecord):
    """An API ``LogRecord`` built from finished values, with a cheap shallow copy."""

    def __init__(
        self,
        ts_ns: int,
        context: Context,
        trace_id: int,
        span_id: int,
        trace_flags: TraceFlags,
        severity_text: str,
        severity_number: SeverityNumber,
        body: AnyValue,
        attributes: BoundedAttributes,
    ) -> None:
        self.timestamp = ts_ns
        self.observed_timestamp = ts_ns
        self.context = context
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        self.severity_text = severity_text
        self.severity_number = severity_number
        self.body = body
        self.attributes = attributes
        self.event_name = None
        self.exception = None

    def __copy__(self) -> _Record:  # the batch processor copies each record
        new = _Record.__new__(_Record)
        new.__dict__.update(self.__dict__)
        return new


def build(
    cls: type[SdkRecord],
    event: Event,
    attributes: dict[str, AnyValue],
    context: Context | None,
    maxlen: int | None,
    resource: Resource | None,
    logger: SdkLogger,
) -> SdkRecord:
    """A *cls* record (readable or read-write) for *event*; the attributes dict is kept."""
    ts_ns, _, span_context, severity_number, severity_text, body = event
    bounded = BoundedAttributes(maxlen, None, False, None, True)
    bounded._dict = attributes
    trace_id, span_id, trace_flags = ids(span_context)
    record = _Record(
        ts_ns,
        context if context is not None else NO_CONTEXT,
        trace_id,
        span_id,
        trace_flags,
        severity_text,
        severity_number,
        body,
        bounded,
    )
    built = cls.__new__(cls)
    built.__dict__.update(
        log_record=record,
        resource=resource,
        instrumentation_scope=logger._instrumentation_scope,
        limits=logger._log_record_limits,
    )
    return built


def ids(span_context: SpanContext | None) -> tuple[int, int, TraceFlags]:
    """Trace id, span id and flags of a record (an invalid span's when there is none)."""
    if span_context is None:
        return 0, 0, _NO_FLAGS
    return span_context.trace_id, span_context.span_id, span_context.trace_flags


def same_as_sdk(
    logger: SdkLogger,
    maxlen: int | None,
    readable: type[ReadableLogRecord],
    readwrite: type[ReadWriteLogRecord],
) -> bool:
    """Whether records built directly equal what the SDK's emit and batch processor make."""
    import copy

    from opentelemetry import trace

    span_context = SpanContext(0x1234, 0x56, False, trace.TraceFlags(1))
    context = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
    attributes: dict[str, AnyValue] = {"s": "v", "i": 1, "f": 1.5, "b": True, "n": None}
    if maxlen is not None:  # within the limit: no dropped-attribute warnings
        attributes = dict(list(attributes.items())[:maxlen])
    resource = logger._resource
    stock = readwrite._from_api_log_record(
        record=LogRecord(
            timestamp=1,
            observed_timestamp=1,
            context=context,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body="e",
            attributes=attributes.copy(),
        ),
        resource=resource,
        instrumentation_scope=logger._instrumentation_scope,
        limits=logger._log_record_limits,
    )
    event: Event = (1, context, span_context, SeverityNumber.INFO, "INFO", "e")
    ours = build(readwrite, event, attributes, context, maxlen, resource, logger)
    if not _equal(ours, stock):
        return False
    queued = copy.copy(stock.log_record)  # what BatchLogRecordProcessor.on_emit queues
    queued.context = Context()
    stock_readable = readable(
        log_record=queued,
        resource=resource,  # the stock record's
        instrumentation_scope=stock.instrumentation_scope,
        limits=stock.limits,
    )
    built = build(readable, event, attributes.copy(), NO_CONTEXT, maxlen, resource, logger)
    return _equal(built, stock_readable)


def _equal(
    ours: ReadableLogRecord | ReadWriteLogRecord, stock: ReadableLogRecord | ReadWriteLogRecord
) -> bool:
    if type(ours) is not type(stock) or vars(ours).keys() != vars(stock).keys():
        return False
    if ours.resource is not stock.resource or ours.limits is not stock.limits:
        return False
    if ours.instrumentation_scope != stock.instrumentation_scope:
        return False
    mine: dict[str, object] = vars(ours.log_record)
    theirs: dict[str, object] = vars(stock.log_record)
    if mine.keys() != theirs.keys():
        return False
    for key, value in theirs.items():
        if key == "attributes":
            attrs = mine[key]
            if type(attrs) is not type(value) or vars(attrs).keys() != vars(value).keys():
                return False
            if not isinstance(attrs, BoundedAttributes) or not isinstance(value, BoundedAttributes):
                return False
            if dict(attrs) != dict(value) or attrs.dropped != value.dropped:
                return False
        elif mine[key] != value or type(mine[key]) is not type(value):
            return False
    return True
