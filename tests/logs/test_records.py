"""``RecordWriter``: the records it builds itself equal the SDK's, on every route.

The writer picks a route from the logger's processors: ``batches`` (queue one
read-only record straight into each ``BatchLogRecordProcessor``), ``processors``
(one ``ReadWriteLogRecord`` through the non-distro processors) or ``emit``
(the stock ``Logger.emit``).  Whatever the route, what the exporter receives
must be what ``Logger.emit`` would have produced.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import LogRecord, NoOpLogger, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.sdk._logs import (
    ConcurrentMultiLogRecordProcessor,
    LoggerProvider,
    LogRecordDroppedAttributesWarning,
    LogRecordLimits,
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
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from otel_distro.exporters._otlp_logs import encode_logs_request
from otel_distro.logging._emit import SCOPE
from otel_distro.logging._records import RecordWriter
from otel_distro.processors.baggage import BaggageAttributesLogProcessor
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.redaction import REDACTED

_LIMIT_VARIABLES = (
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SDK_DISABLED",
)

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


@pytest.fixture(autouse=True)
def no_limit_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _LIMIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_provider() -> Iterator[Callable[..., LoggerProvider]]:
    """``make_provider(*processors, resource=..., **LoggerProvider kwargs)``; shut down after."""
    made: list[LoggerProvider] = []

    def make(
        *processors: LogRecordProcessor, resource: Resource | None = None, **kwargs: Any
    ) -> LoggerProvider:
        provider = LoggerProvider(
            resource=resource if resource is not None else Resource({"service.name": "svc"}),
            shutdown_on_exit=False,
            **kwargs,
        )
        for processor in processors:
            provider.add_log_record_processor(processor)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.shutdown()


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


# --- route selection -----------------------------------------------------------


def test_only_batch_processors_queue_directly(make_provider: Callable[..., LoggerProvider]) -> None:
    """Batch processors alone, or with the distro's own processors: the ``batches`` route."""
    exporter = InMemoryLogRecordExporter()
    alone = make_provider(BatchLogRecordProcessor(exporter))
    assert writer_for(alone).route == "batches"
    distro = make_provider(
        BaggageAttributesLogProcessor(("tenant.id", "user.id")),
        RedactingLogRecordProcessor(),
        BatchLogRecordProcessor(InMemoryLogRecordExporter()),
        BatchLogRecordProcessor(InMemoryLogRecordExporter()),
    )
    assert writer_for(distro).route == "batches"


def test_distro_processors_declare_that_they_skip_own_records() -> None:
    assert BaggageAttributesLogProcessor.skips_own_records is True
    assert RedactingLogRecordProcessor.skips_own_records is True


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


class SubclassedBatch(BatchLogRecordProcessor):
    """Not the SDK's batch processor itself: its ``on_emit`` may do more."""


@pytest.mark.parametrize(
    "other",
    [
        lambda: SimpleLogRecordProcessor(InMemoryLogRecordExporter()),
        Mark,
        lambda: SubclassedBatch(InMemoryLogRecordExporter()),
    ],
    ids=["simple", "custom", "batch-subclass"],
)
def test_any_other_processor_takes_the_processors_route(
    make_provider: Callable[..., LoggerProvider], other: Callable[[], LogRecordProcessor]
) -> None:
    provider = make_provider(
        RedactingLogRecordProcessor(), BatchLogRecordProcessor(InMemoryLogRecordExporter()), other()
    )
    assert writer_for(provider).route == "processors"


def test_non_sdk_loggers_use_their_own_emit() -> None:
    """A NoOp logger or any other API logger: ``emit`` route, records go to its ``emit``."""
    assert RecordWriter(NoOpLogger(SCOPE)).route == "emit"
    write(RecordWriter(NoOpLogger(SCOPE)))  # never raises

    class Recording(NoOpLogger):
        def __init__(self) -> None:
            super().__init__(SCOPE)
            self.records: list[LogRecord] = []

        def emit(self, record: Any = None, **kwargs: Any) -> None:
            self.records.append(record)

    logger = Recording()
    writer = RecordWriter(logger)
    assert writer.route == "emit"
    write(writer, attributes={"k": "v"})
    (record,) = logger.records
    assert (record.body, dict(record.attributes or {})) == ("site_created", {"k": "v"})
    assert (record.trace_id, record.span_id) == (TRACE_ID, SPAN_ID)
    assert record.severity_number is SeverityNumber.WARN


def test_proxy_logger_before_an_sdk_provider_is_set_uses_emit() -> None:
    from opentelemetry._logs._internal import ProxyLoggerProvider

    writer = RecordWriter(ProxyLoggerProvider().get_logger(SCOPE))
    assert writer.route == "emit"
    write(writer)


@pytest.mark.parametrize(
    "limits",
    [
        LogRecordLimits(max_attribute_length=5),
        LogRecordLimits(max_log_record_attribute_length=5),
    ],
    ids=["max_attribute_length", "max_log_record_attribute_length"],
)
def test_a_value_length_limit_uses_the_sdk(
    make_provider: Callable[..., LoggerProvider], limits: LogRecordLimits
) -> None:
    """The SDK's value-length limit applies: the writer leaves the record to ``Logger.emit``."""
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(BatchLogRecordProcessor(exporter), log_record_limits=limits)
    writer = writer_for(provider)
    assert writer.route == "emit"
    write(writer, attributes={"name": "abcdefghij"})
    (record,) = exported(provider, exporter)
    assert dict(record.log_record.attributes or {}) == {"name": "abcde"}


def test_concurrent_multi_processor_uses_emit(make_provider: Callable[..., LoggerProvider]) -> None:
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(
        SimpleLogRecordProcessor(exporter),
        multi_log_record_processor=ConcurrentMultiLogRecordProcessor(),
    )
    writer = writer_for(provider)
    assert writer.route == "emit"
    write(writer, attributes={"k": "v"})
    (record,) = exported(provider, exporter)
    assert record.log_record.body == "site_created"
    assert (record.log_record.trace_id, record.log_record.span_id) == (TRACE_ID, SPAN_ID)


# --- equivalence with Logger.emit ----------------------------------------------


def _twin_providers(
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


EVENTS: list[dict[str, Any]] = [
    {},
    {"body": "caf\u00e9", "severity": (SeverityNumber.ERROR, "ERROR")},
    {"severity": (SeverityNumber.FATAL, "FATAL"), "ts_ns": 1},
    {"severity": (SeverityNumber.UNSPECIFIED, "UNSPECIFIED"), "attributes": {}},
    {"attributes": {"only": "one"}, "severity": (SeverityNumber.DEBUG, "DEBUG")},
]


@pytest.mark.parametrize("route", ["batches", "processors"])
@pytest.mark.parametrize("event", EVENTS, ids=[f"event{i}" for i in range(len(EVENTS))])
def test_direct_record_equals_the_stock_record(
    make_provider: Callable[..., LoggerProvider], route: str, event: dict[str, Any]
) -> None:
    """Same event, same provider setup: the exported records are identical, also as OTLP."""
    resource = Resource({"service.name": "svc", "deployment.environment": "test"}, "https://s/1")
    (ours, ours_exporter), (stock, stock_exporter) = _twin_providers(make_provider, route, resource)
    writer = writer_for(ours)
    assert writer.route == route
    write(writer, **event)
    write_stock(stock, **event)
    (mine,) = exported(ours, ours_exporter)
    (theirs,) = exported(stock, stock_exporter)
    assert_same_record(mine, theirs)
    assert (mine.log_record.trace_id, mine.log_record.span_id) == (TRACE_ID, SPAN_ID)
    assert mine.log_record.trace_flags == TraceFlags.SAMPLED
    scope = mine.instrumentation_scope
    assert scope is not None and scope.name == SCOPE


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_event_outside_a_span_has_no_ids_like_stock(
    make_provider: Callable[..., LoggerProvider], route: str
) -> None:
    resource = Resource({"service.name": "svc"})
    (ours, ours_exporter), (stock, stock_exporter) = _twin_providers(make_provider, route, resource)
    write(writer_for(ours), context=Context(), span_context=None)
    write_stock(stock, context=Context())
    (mine,) = exported(ours, ours_exporter)
    (theirs,) = exported(stock, stock_exporter)
    assert_same_record(mine, theirs)
    assert (mine.log_record.trace_id, mine.log_record.span_id) == (0, 0)
    assert mine.log_record.trace_flags == TraceFlags.DEFAULT


def test_one_batch_of_direct_records_encodes_like_stock(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """Several direct records in one export batch: same OTLP request as the stock records."""
    resource = Resource({"service.name": "svc"})
    (ours, ours_exporter), (stock, stock_exporter) = _twin_providers(
        make_provider, "batches", resource
    )
    writer = writer_for(ours)
    for i, event in enumerate(EVENTS):
        write(writer, **{"ts_ns": 10 + i, **event})
        write_stock(stock, **{"ts_ns": 10 + i, **event})
    mine, theirs = exported(ours, ours_exporter), exported(stock, stock_exporter)
    assert len(mine) == len(theirs) == len(EVENTS)
    assert encode_logs_request(mine) == encode_logs(theirs).SerializeToString()


# --- processors and configuration changing after the writer was made ----------


def test_processors_added_later_receive_records(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """A processor added after the writer was created gets every later record."""
    first = InMemoryLogRecordExporter()
    provider = make_provider(BatchLogRecordProcessor(first))
    writer = writer_for(provider)
    write(writer, body="one")
    assert writer.route == "batches"

    second = InMemoryLogRecordExporter()
    provider.add_log_record_processor(BatchLogRecordProcessor(second))
    write(writer, body="two")
    assert writer.route == "batches"

    mark = Mark()
    provider.add_log_record_processor(mark)
    write(writer, body="three")
    assert writer.route == "processors"

    third = InMemoryLogRecordExporter()
    provider.add_log_record_processor(SimpleLogRecordProcessor(third))
    write(writer, body="four")

    def bodies(exporter: InMemoryLogRecordExporter) -> list[Any]:
        return [r.log_record.body for r in exported(provider, exporter)]

    assert bodies(first) == ["one", "two", "three", "four"]
    assert bodies(second) == ["two", "three", "four"]
    assert [r.log_record.body for r in mark.seen] == ["three", "four"]
    assert bodies(third) == ["four"]


def test_redaction_processor_added_later_redacts_the_resource(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(
        BatchLogRecordProcessor(exporter),
        resource=Resource({"service.name": "svc", "db.password": "hunter2"}),
    )
    writer = writer_for(provider)
    write(writer, body="before")
    provider.add_log_record_processor(RedactingLogRecordProcessor())
    write(writer, body="after")
    assert writer.route == "batches"
    before, after = exported(provider, exporter)
    assert before.resource.attributes["db.password"] == "hunter2"
    assert after.resource.attributes["db.password"] == REDACTED


def _disabling(scope_name: str) -> Callable[[Any], _LoggerConfig]:
    def configurator(scope: Any) -> _LoggerConfig:
        return _LoggerConfig(is_enabled=scope.name != scope_name)

    return configurator


@pytest.mark.parametrize("route", ["batches", "processors", "emit"])
def test_logger_disabled_by_the_configurator_emits_nothing(
    make_provider: Callable[..., LoggerProvider], route: str
) -> None:
    """``_set_logger_configurator`` disabling the scope silences the writer (and re-enables)."""
    exporter = InMemoryLogRecordExporter()
    sink: LogRecordProcessor = (
        BatchLogRecordProcessor(exporter)
        if route == "batches"
        else SimpleLogRecordProcessor(exporter)
    )
    kwargs: dict[str, Any] = {}
    if route == "emit":
        kwargs["log_record_limits"] = LogRecordLimits(max_attribute_length=1000)
    provider = make_provider(sink, **kwargs)
    writer = writer_for(provider)
    assert writer.route == route
    write(writer, body="enabled")
    provider._set_logger_configurator(logger_configurator=_disabling(SCOPE))
    write(writer, body="disabled")
    write(writer, body="disabled, non-scalar", attributes={"l": [1]})
    provider._set_logger_configurator(logger_configurator=_disabling("another.scope"))
    write(writer, body="enabled again")
    assert [r.log_record.body for r in exported(provider, exporter)] == [
        "enabled",
        "enabled again",
    ]


def test_logger_disabled_from_the_start_emits_nothing(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(
        BatchLogRecordProcessor(exporter), _logger_configurator=_disabling(SCOPE)
    )
    writer = writer_for(provider)
    write(writer)
    write(writer, attributes={"d": {"k": "v"}})
    assert exported(provider, exporter) == []


# --- the redacted resource -----------------------------------------------------

SECRET_RESOURCE = {"service.name": "svc", "db.password": "hunter2", "api_key": "k-123"}


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_direct_records_carry_the_redacted_resource(
    make_provider: Callable[..., LoggerProvider], route: str
) -> None:
    """With the redaction processor present, the direct route applies its resource once."""
    resource = Resource(SECRET_RESOURCE)
    (ours, ours_exporter), (stock, stock_exporter) = _twin_providers(make_provider, route, resource)
    write(writer_for(ours))
    write_stock(stock)
    (mine,) = exported(ours, ours_exporter)
    (theirs,) = exported(stock, stock_exporter)
    assert dict(mine.resource.attributes) == {
        "service.name": "svc",
        "db.password": REDACTED,
        "api_key": REDACTED,
    }
    assert_same_record(mine, theirs)
    assert b"hunter2" not in encode_logs_request([mine])


def test_without_the_redaction_processor_the_resource_is_unchanged(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(BatchLogRecordProcessor(exporter), resource=Resource(SECRET_RESOURCE))
    write(writer_for(provider))
    (record,) = exported(provider, exporter)
    assert dict(record.resource.attributes) == SECRET_RESOURCE


def test_resource_updated_after_the_writer_was_made_reaches_records(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """After ``fork`` the SDK merges the child's ``process.pid`` into every logger's resource.

    ``LoggerProvider._handle_fork`` calls ``_update_resource``, which replaces each
    logger's ``_resource``; ``Logger.emit`` then uses the new resource.  Records written
    directly must carry it too, not the resource captured when the route was planned.
    """
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(
        RedactingLogRecordProcessor(),
        BatchLogRecordProcessor(exporter),
        resource=Resource({"service.name": "svc", "process.pid": 100}),
    )
    writer = writer_for(provider)
    write(writer, body="parent")
    provider._update_resource(Resource({"process.pid": 200}))
    write(writer, body="child")
    stock = provider.get_logger(SCOPE)
    assert stock.resource.attributes["process.pid"] == 200  # what Logger.emit would use
    parent, child = exported(provider, exporter)
    assert parent.resource.attributes["process.pid"] == 100
    assert child.resource.attributes["process.pid"] == 200


# --- providers without exporting processors, other SDK releases, SDK metrics ---------


def test_only_distro_processors_then_a_batch_processor(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """No processor but the distro's own: nothing to receive records, nothing fails.

    A batch processor added later receives the records from then on.
    """
    provider = make_provider(
        BaggageAttributesLogProcessor(("tenant.id",)), RedactingLogRecordProcessor()
    )
    writer = writer_for(provider)
    write(writer, body="nobody listens")
    write(writer, body="nobody listens", attributes={"l": [1]})
    exporter = InMemoryLogRecordExporter()
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    write(writer, body="heard")
    assert [r.log_record.body for r in exported(provider, exporter)] == ["heard"]


def test_other_sdk_releases_use_the_processors_own_on_emit(
    make_provider: Callable[..., LoggerProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the batch processor's ``on_emit`` is not the one mirrored, it is called itself."""
    from otel_distro.logging import _records

    monkeypatch.setattr(_records, "_BATCH_QUEUE_SDK", "0.0.")
    resource = Resource({"service.name": "svc"})
    (ours, ours_exporter), (stock, stock_exporter) = _twin_providers(
        make_provider, "batches", resource
    )
    writer = writer_for(ours)
    assert writer.route == "processors"
    write(writer)
    write_stock(stock)
    (mine,) = exported(ours, ours_exporter)
    (theirs,) = exported(stock, stock_exporter)
    assert_same_record(mine, theirs)


def _created_logs(reader: Any) -> int:
    data = reader.get_metrics_data()
    total = 0
    for resource_metrics in data.resource_metrics if data is not None else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == "otel.sdk.log.created":
                    total += sum(point.value for point in metric.data.data_points)
    return total


@pytest.mark.parametrize("setup", ["batches", "processors", "distro-only", "disabled"])
def test_sdk_created_logs_metric_counts_like_stock(
    make_provider: Callable[..., LoggerProvider],
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
) -> None:
    """With the SDK's own metrics on, ``otel.sdk.log.created`` counts what ``Logger.emit`` would.

    The SDK counts every record submitted to an enabled logger, whether or not a
    processor then exports it.
    """
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    counts = []
    for direct in (True, False):
        reader = InMemoryMetricReader()
        processors: list[LogRecordProcessor] = [RedactingLogRecordProcessor()]
        if setup in ("batches", "disabled"):
            processors.append(BatchLogRecordProcessor(InMemoryLogRecordExporter()))
        elif setup == "processors":
            processors.append(SimpleLogRecordProcessor(InMemoryLogRecordExporter()))
        kwargs: dict[str, Any] = {"meter_provider": MeterProvider(metric_readers=[reader])}
        if setup == "disabled":
            kwargs["_logger_configurator"] = _disabling(SCOPE)
        provider = make_provider(*processors, **kwargs)
        for _ in range(3):
            if direct:
                write(writer_for(provider))
            else:
                write_stock(provider)
        counts.append(_created_logs(reader))
    assert counts[0] == counts[1] == (0 if setup == "disabled" else 3)


# --- values and limits that need the SDK ---------------------------------------


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_non_scalar_values_fall_back_to_the_sdk(
    make_provider: Callable[..., LoggerProvider], route: str
) -> None:
    """Lists and dicts go through ``Logger.emit``: lists become tuples, as the SDK makes them."""
    attributes = {"ids": [1, 2, 3], "names": ["a", "b"], "nested": {"k": "v"}, "s": "x"}
    resource = Resource({"service.name": "svc"})
    (ours, ours_exporter), (stock, stock_exporter) = _twin_providers(make_provider, route, resource)
    write(writer_for(ours), attributes=attributes)
    write_stock(stock, attributes=attributes)
    (mine,) = exported(ours, ours_exporter)
    (theirs,) = exported(stock, stock_exporter)
    assert_same_record(mine, theirs)
    values = dict(mine.log_record.attributes or {})
    assert values["ids"] == (1, 2, 3) and type(values["ids"]) is tuple
    assert values["names"] == ("a", "b")
    assert values["s"] == "x"


def test_more_attributes_than_the_limit_drop_like_the_sdk(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """Over ``max_attributes`` the record goes through the SDK (oldest dropped, count kept)."""
    limits = LogRecordLimits(max_attributes=6)
    exporters = InMemoryLogRecordExporter(), InMemoryLogRecordExporter()
    ours = make_provider(BatchLogRecordProcessor(exporters[0]), log_record_limits=limits)
    stock = make_provider(BatchLogRecordProcessor(exporters[1]), log_record_limits=limits)
    writer = writer_for(ours)
    assert writer.route == "batches"
    many = {f"k{i}": i for i in range(8)}
    with pytest.warns(LogRecordDroppedAttributesWarning):
        write(writer, attributes=many)
    with pytest.warns(LogRecordDroppedAttributesWarning):
        write_stock(stock, attributes=many)
    at_limit = {f"k{i}": i for i in range(6)}  # nothing dropped, the direct route
    write(writer, attributes=at_limit)
    write_stock(stock, attributes=at_limit)
    mine, theirs = exported(ours, exporters[0]), exported(stock, exporters[1])
    assert mine[0].dropped_attributes == 2
    assert dict(mine[0].log_record.attributes or {}) == {f"k{i}": i for i in range(2, 8)}
    assert mine[1].dropped_attributes == 0
    for a, b in zip(mine, theirs):
        assert_same_record(a, b)


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_small_attribute_limits_still_match_the_sdk(
    make_provider: Callable[..., LoggerProvider], limit: int
) -> None:
    """A limit below the writer's own probe record: records still equal the stock ones."""
    limits = LogRecordLimits(max_attributes=limit)
    exporters = InMemoryLogRecordExporter(), InMemoryLogRecordExporter()
    ours = make_provider(BatchLogRecordProcessor(exporters[0]), log_record_limits=limits)
    stock = make_provider(BatchLogRecordProcessor(exporters[1]), log_record_limits=limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogRecordDroppedAttributesWarning)
        writer = writer_for(ours)
        for attributes in ({}, {"a": "x"}, {f"k{i}": i for i in range(4)}):
            write(writer, attributes=attributes)
            write_stock(stock, attributes=attributes)
    mine, theirs = exported(ours, exporters[0]), exported(stock, exporters[1])
    assert len(mine) == len(theirs) == 3
    for a, b in zip(mine, theirs):
        assert_same_record(a, b)


@pytest.mark.parametrize("limit", [1, 3])
def test_making_a_writer_reports_no_dropped_attributes(
    make_provider: Callable[..., LoggerProvider],
    caplog: pytest.LogCaptureFixture,
    limit: int,
) -> None:
    """Creating the writer (``configure()``) logs nothing: no record was dropped yet.

    The writer's one-time check builds a probe record with five attributes through
    the SDK; under a smaller ``max_attributes`` the SDK drops some of them and says
    so (a ``LogRecordDroppedAttributesWarning`` and "Attributes dict is full"
    warnings), as if the application had logged too many attributes.
    """
    provider = make_provider(
        BatchLogRecordProcessor(InMemoryLogRecordExporter()),
        log_record_limits=LogRecordLimits(max_attributes=limit),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with caplog.at_level(logging.WARNING):
            writer_for(provider)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_default_attribute_count_limit_applies(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """Without explicit limits the SDK's default (128 attributes) still holds."""
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(BatchLogRecordProcessor(exporter))
    with pytest.warns(LogRecordDroppedAttributesWarning):
        write(writer_for(provider), attributes={f"k{i}": i for i in range(130)})
    (record,) = exported(provider, exporter)
    assert record.dropped_attributes == 2
    assert len(record.log_record.attributes or {}) == 128


# --- user processors on the processors route -----------------------------------


class Enrich(LogRecordProcessor):
    """Changes each record in ``on_emit`` (as processors may: they get a read-write record)."""

    def __init__(self) -> None:
        self.kinds: list[type] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.kinds.append(type(log_record))
        record = log_record.log_record
        assert record.attributes is not None
        record.attributes["enriched"] = "yes"
        record.body = f"{record.body}!"
        record.severity_text = "NOTICE"

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@pytest.mark.parametrize("sink", [BatchLogRecordProcessor, SimpleLogRecordProcessor])
def test_a_mutating_processor_changes_what_is_exported(
    make_provider: Callable[..., LoggerProvider], sink: Callable[..., LogRecordProcessor]
) -> None:
    exporter = InMemoryLogRecordExporter()
    enrich = Enrich()
    provider = make_provider(RedactingLogRecordProcessor(), enrich, sink(exporter))
    writer = writer_for(provider)
    assert writer.route == "processors"
    write(writer, attributes={"site_id": 7})
    (record,) = exported(provider, exporter)
    assert enrich.kinds == [ReadWriteLogRecord]
    assert record.log_record.body == "site_created!"
    assert record.log_record.severity_text == "NOTICE"
    assert dict(record.log_record.attributes or {}) == {"site_id": 7, "enriched": "yes"}
    assert (record.log_record.trace_id, record.log_record.span_id) == (TRACE_ID, SPAN_ID)


def test_processors_see_the_event_context(make_provider: Callable[..., LoggerProvider]) -> None:
    """On the processors route a processor reads the event's context (baggage, span)."""
    mark = Mark()
    provider = make_provider(mark)
    write(writer_for(provider))
    (record,) = mark.seen
    assert trace.get_current_span(record.log_record.context).get_span_context() == SPAN_CONTEXT
    assert record.resource == provider.resource


def test_processors_run_in_registration_order(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    order: list[str] = []

    class Named(Mark):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def on_emit(self, log_record: ReadWriteLogRecord) -> None:
            order.append(self.name)

    provider = make_provider(Named("a"), RedactingLogRecordProcessor(), Named("b"), Named("c"))
    write(writer_for(provider))
    assert order == ["a", "b", "c"]


# --- the stock fallback keeps the event's context --------------------------------


def test_stock_fallback_outside_a_span_does_not_take_the_current_span(
    make_provider: Callable[..., LoggerProvider],
) -> None:
    """An event logged outside any span keeps no ids, whichever thread completes it.

    The worker may complete a queued event on another thread (``flush()`` from an
    ERROR inside a span).  The direct route reads ids from the event's own context;
    the ``Logger.emit`` fallback (here: a list value) must too.  The API's
    ``LogRecord`` treats an empty ``Context`` as "no context" and reads the
    *current* one instead.
    """
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(SimpleLogRecordProcessor(exporter))
    writer = writer_for(provider)
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("unrelated"):
        write(writer, body="direct", context=Context(), span_context=None, attributes={"s": "x"})
        write(writer, body="fallback", context=Context(), span_context=None, attributes={"l": [1]})
    records = {r.log_record.body: r.log_record for r in exported(provider, exporter)}
    assert (records["direct"].trace_id, records["direct"].span_id) == (0, 0)
    assert (records["fallback"].trace_id, records["fallback"].span_id) == (0, 0)


def test_exported_json_is_valid(make_provider: Callable[..., LoggerProvider]) -> None:
    exporter = InMemoryLogRecordExporter()
    provider = make_provider(BatchLogRecordProcessor(exporter))
    write(writer_for(provider))
    (record,) = exported(provider, exporter)
    data = json.loads(record.to_json())
    assert data["attributes"]["unicode"] == SCALARS["unicode"]
    assert data["trace_id"] == f"0x{TRACE_ID:032x}"
