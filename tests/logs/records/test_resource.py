"""The resource of direct records: redacted once when the redaction processor is present."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk._logs import (
    LoggerProvider,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
)
from opentelemetry.sdk.resources import Resource

from otel_distro.exporters._otlp_logs import encode_logs_request
from otel_distro.logging._emit import SCOPE
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.redaction import REDACTED
from tests.support.records import (
    assert_same_record,
    exported,
    twin_providers,
    write,
    write_stock,
    writer_for,
)

# --- the redacted resource -----------------------------------------------------

SECRET_RESOURCE = {"service.name": "svc", "db.password": "hunter2", "api_key": "k-123"}


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_direct_records_carry_the_redacted_resource(
    make_provider: Callable[..., LoggerProvider], route: str
) -> None:
    """With the redaction processor present, the direct route applies its resource once."""
    resource = Resource(SECRET_RESOURCE)
    (ours, ours_exporter), (stock, stock_exporter) = twin_providers(make_provider, route, resource)
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
