"""Processors and logger configuration changing after the writer was made reach later records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordLimits,
    LogRecordProcessor,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource

from otel_distro.logging._emit import SCOPE
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.redaction import REDACTED
from tests.support.records import (
    Mark,
    disabling,
    exported,
    write,
    writer_for,
)

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
    provider._set_logger_configurator(logger_configurator=disabling(SCOPE))
    write(writer, body="disabled")
    write(writer, body="disabled, non-scalar", attributes={"l": [1]})
    provider._set_logger_configurator(logger_configurator=disabling("another.scope"))
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
        BatchLogRecordProcessor(exporter), _logger_configurator=disabling(SCOPE)
    )
    writer = writer_for(provider)
    write(writer)
    write(writer, attributes={"d": {"k": "v"}})
    assert exported(provider, exporter) == []
