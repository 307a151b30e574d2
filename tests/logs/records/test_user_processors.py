"""User processors on the ``processors`` route: they see and may change each record."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)

from otel_distro.processors.redaction import RedactingLogRecordProcessor
from tests.support.records import (
    SPAN_CONTEXT,
    SPAN_ID,
    TRACE_ID,
    Mark,
    exported,
    write,
    writer_for,
)

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
