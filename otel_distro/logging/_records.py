"""Finished events into SDK log records, without re-validating what is already clean.

``Logger.emit`` re-checks every attribute value (``BoundedAttributes``), runs
every processor (ours skip our own records anyway) and the batch processor
then copies each record through the generic ``copy`` protocol.  Our events
are already cleaned, limited and redacted, so :class:`RecordWriter` builds the
records the SDK would build and routes them itself:

* processors marked ``skips_own_records`` (the distro's tenant copier and
  redaction processor) are left out; the redacted resource is applied once;
* when every remaining processor is the SDK's ``BatchLogRecordProcessor``, the
  read-only record each would queue is built once and queued directly;
* otherwise one ``ReadWriteLogRecord`` goes to the remaining processors in order.

It checks once that its records equal the SDK's for a probe event and falls
back to ``Logger.emit`` when they do not, when the logger is not the SDK's, or
when a record needs the SDK's limits (value length limit, too many
attributes, non-scalar values).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from opentelemetry._logs import Logger, LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext
from opentelemetry.util.types import AnyValue

from otel_distro.logging._sdk_records import NO_CONTEXT, Event, SdkRecord, build, ids, same_as_sdk

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import Logger as SdkLogger
    from opentelemetry.sdk._logs import (
        LogRecordProcessor,
        ReadableLogRecord,
        ReadWriteLogRecord,
        SynchronousMultiLogRecordProcessor,
    )
    from opentelemetry.sdk.resources import Resource

__all__ = ["RecordWriter"]

_log = logging.getLogger("otel_distro.logging")

_SCALARS = frozenset({str, int, float, bool, type(None)})
# SDK releases whose batch processor ``on_emit`` only copies the record, drops its
# context and queues it (other releases get the processors' own ``on_emit``)
_BATCH_QUEUE_SDK = "1.45."
# Records held back while the batch processors' queues are full (a burst faster than
# their exporter): at most this many, and dropped when the queues have not moved for
# ``_STALL`` seconds (a hung or unreachable collector), as the SDK would have dropped them.
# One export of a full batch can take over a second on a busy 2-core machine: a
# shorter wait dropped records of a healthy burst.
_HELD_MAX = 65536
_STALL = 2.0
_UNBOUNDED = 1 << 62


class RecordWriter:
    """Emits finished events into one OTel ``Logger``."""

    def __init__(self, logger: Logger) -> None:
        self.logger = logger
        self.route = "emit"  # "emit" (Logger.emit), "processors" or "batches"
        # set together when records are built directly: the SDK logger and its processors
        self._sdk: SdkLogger | None = None
        self._multi: SynchronousMultiLogRecordProcessor | None = None
        self._seen: tuple[LogRecordProcessor, ...] | None = None
        self._resource: Resource | None = None
        self._queues: tuple[Callable[[ReadableLogRecord], object], ...] = ()
        self._processors: tuple[Callable[[ReadWriteLogRecord], object], ...] = ()
        self._count: Callable[[], object] | None = None
        self._idle = False
        self._source: Resource | None = None
        self._maxlen: int | None = None
        # (queue, size) of each batch processor queued into directly, and the records
        # held back for them while they were full (oldest first)
        self._bounded: tuple[tuple[deque[ReadableLogRecord], int], ...] = ()
        self._held: deque[ReadableLogRecord] = deque()
        self._left = 0
        self._moved = 0.0  # when the held records last moved (monotonic)
        self._stalled = False  # gave up waiting: queue directly until there is room
        self.dropped = 0
        try:
            self._init_direct(logger)
        except Exception:  # SDK internals not as expected (third-party): the SDK's own path
            self._multi = None
        _log.debug("otel-distro log records go through %s", self.route)

    def _init_direct(self, logger: Logger) -> None:
        from opentelemetry.sdk._logs import Logger as SdkLogger
        from opentelemetry.sdk._logs._internal import (
            ReadableLogRecord,
            ReadWriteLogRecord,
            SynchronousMultiLogRecordProcessor,
        )
        from opentelemetry.sdk._logs._internal._logger_metrics import NoOpLoggerMetrics

        if type(logger) is not SdkLogger:
            return
        limits = logger._log_record_limits
        multi = logger._multi_log_record_processor
        if limits.max_log_record_attribute_length is not None:
            return
        if type(multi) is not SynchronousMultiLogRecordProcessor:
            return
        self._readable = ReadableLogRecord
        self._readwrite = ReadWriteLogRecord
        self._maxlen = limits.max_log_record_attributes
        metrics = logger._logger_metrics
        # the SDK's no-op metrics (the default) are not called per record
        self._count = None if type(metrics) is NoOpLoggerMetrics else metrics.emit_log
        if same_as_sdk(logger, self._maxlen, ReadableLogRecord, ReadWriteLogRecord):
            self._sdk = logger
            self._multi = multi
            self._plan(multi, logger)

    def _plan(self, multi: SynchronousMultiLogRecordProcessor, logger: SdkLogger) -> None:
        """Choose the route for the logger's current processors."""
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        processors = multi._log_record_processors
        self._seen = processors
        resource = self._source = logger._resource
        others: list[LogRecordProcessor] = []
        for processor in processors:
            if getattr(processor, "skips_own_records", False):
                adapt = getattr(processor, "own_records_resource", None)
                if adapt is not None:
                    resource = adapt(resource)
                continue
            others.append(processor)
        self._resource = resource
        batches = [
            getattr(p, "_batch_processor", None)
            for p in others
            if type(p) is BatchLogRecordProcessor
        ]
        queues = [getattr(b, "emit", None) for b in batches]
        self._idle = not others
        if _queues_known() and len(queues) == len(others) and all(callable(q) for q in queues):
            self._queues = tuple(q for q in queues if q is not None)
            self.route = "batches"
            bounded: list[tuple[deque[ReadableLogRecord] | None, object]] = [
                (getattr(b, "_queue", None), getattr(b, "_max_queue_size", None)) for b in batches
            ]
            known = [(q, size) for q, size in bounded if q is not None and type(size) is int]
            ok = len(known) == len(bounded)
            self._bounded = tuple(known) if ok else ()  # unknown: nothing is held back
            self._left = 0
        else:
            self._processors = tuple(p.on_emit for p in others)
            self.route = "processors"

    def emit(
        self,
        ts_ns: int,
        context: Context | None,
        span_context: SpanContext | None,
        severity_number: SeverityNumber,
        severity_text: str,
        body: AnyValue,
        attributes: dict[str, AnyValue],
    ) -> None:
        """One record; *attributes* must be cleaned already (the dict is kept, not copied)."""
        multi = self._multi
        logger = self._sdk
        if multi is None or logger is None or not self._fits(attributes):
            self._emit_stock(
                (ts_ns, context, span_context, severity_number, severity_text, body), attributes
            )
            return
        if multi._log_record_processors is not self._seen or logger._resource is not self._source:
            self._plan(multi, logger)  # processors added, or a new resource (after fork)
        if not logger._logger_config.is_enabled:
            return
        if self._count is not None:
            self._count()
        if self._idle:
            return
        event: Event = (ts_ns, context, span_context, severity_number, severity_text, body)
        if self.route == "batches":
            readable = self._build(self._readable, event, attributes, NO_CONTEXT, logger)
            # ``_left``: room the queues had at least (only their exporter frees more)
            if self._left <= 0 or self._held:
                self._left = self._room()
                if self._left <= 0 or self._held:
                    self._hold(readable)
                    return
            self._left -= 1
            for queue in self._queues:
                queue(readable)
        else:
            readwrite = self._build(self._readwrite, event, attributes, context, logger)
            for on_emit in self._processors:
                on_emit(readwrite)

    # held records -----------------------------------------------------------------

    def _room(self) -> int:
        return min((size - len(queue) for queue, size in self._bounded), default=_UNBOUNDED)

    def _hold(self, readable: ReadableLogRecord) -> None:
        if self._stalled and not self._held:
            if self._room() <= 0:  # still stuck: what the SDK would do (drop, and say so)
                for queue in self._queues:
                    queue(readable)
                return
            self._stalled = False
        held = self._held
        if not held:
            self._moved = time.monotonic()
        if len(held) >= _HELD_MAX:
            self.dropped += 1
            return
        held.append(readable)

    def held(self) -> int:
        """Records waiting for room in the batch processors' queues."""
        return len(self._held)

    def feed(self) -> bool:
        """Move held records into the batch queues as far as they have room.

        Returns True while records remain held and waiting is still worthwhile; after
        ``_STALL`` seconds without room they are dropped (counted in ``dropped``).
        Call with the emitter's lock held (records keep their order).
        """
        held = self._held
        if not held:
            return False
        room = self._room()
        if room > 0:
            queues = self._queues
            for _ in range(min(room, len(held))):
                readable = held.popleft()
                for queue in queues:
                    queue(readable)
            self._left = 0  # the room was used: measured again by the next record
            self._moved = time.monotonic()
            return bool(held)
        if time.monotonic() - self._moved < _STALL:
            return True
        self.dropped += len(held)
        held.clear()
        self._stalled = True
        _log.debug("log export stalled: records beyond the batch queue are dropped")
        return False

    def forget_held(self) -> None:
        """Drop held records without exporting them (a forked child: they are the parent's)."""
        self._held = deque()
        self._stalled = False

    def _emit_stock(self, event: Event, attributes: dict[str, AnyValue]) -> None:
        ts_ns, context, span_context, severity_number, severity_text, body = event
        record = LogRecord(
            timestamp=ts_ns,
            observed_timestamp=ts_ns,
            context=context,
            severity_number=severity_number,
            severity_text=severity_text,
            body=body,
            attributes=attributes,
        )
        # The API takes an empty context to mean "the current one": the ids must be
        # the event's own, not those of whatever span is current on this thread.
        record.context = context if context is not None else NO_CONTEXT
        record.trace_id, record.span_id, record.trace_flags = ids(span_context)
        self.logger.emit(record)

    def _fits(self, attributes: dict[str, AnyValue]) -> bool:
        maxlen = self._maxlen
        if maxlen is not None and len(attributes) > maxlen:
            return False
        scalars = _SCALARS
        for value in attributes.values():  # noqa: SIM110 - a loop is faster than all()
            if type(value) not in scalars:
                return False
        return True

    def _build(
        self,
        cls: type[SdkRecord],
        event: Event,
        attributes: dict[str, AnyValue],
        context: Context | None,
        logger: SdkLogger,
    ) -> SdkRecord:
        """A *cls* record (readable or read-write) for *event*; the attributes dict is kept."""
        return build(cls, event, attributes, context, self._maxlen, self._resource, logger)


def _queues_known() -> bool:
    """Whether this SDK's ``BatchLogRecordProcessor.on_emit`` is the copy-and-queue we mirror."""
    try:
        from opentelemetry.sdk.version import __version__
    except ImportError:
        return False
    return __version__.startswith(_BATCH_QUEUE_SDK)
