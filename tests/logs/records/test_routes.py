"""``RecordWriter`` route selection (``batches``, ``processors``, ``emit``) from the processors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry._logs import LogRecord, NoOpLogger, SeverityNumber
from opentelemetry.sdk._logs import (
    ConcurrentMultiLogRecordProcessor,
    LoggerProvider,
    LogRecordLimits,
    LogRecordProcessor,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)

from otel_distro.logging._emit import SCOPE
from otel_distro.logging._records import RecordWriter
from otel_distro.processors.baggage import BaggageAttributesLogProcessor
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from tests.support.records import (
    SPAN_ID,
    TRACE_ID,
    Mark,
    exported,
    write,
    writer_for,
)

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


def test_proxy_logger_before_an_sdk_provider_is_set_uses_emit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry._logs import _internal
    from opentelemetry._logs._internal import ProxyLoggerProvider

    # "before": an earlier test in this process may have set the global SDK provider
    monkeypatch.setattr(_internal, "_LOGGER_PROVIDER", None)
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
