"""Records the writer builds itself equal ``Logger.emit``'s, field by field and as OTLP bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.sdk._logs import (
    LoggerProvider,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import TraceFlags

from otel_distro.exporters._otlp_logs import encode_logs_request
from otel_distro.logging._emit import SCOPE
from tests.support.records import (
    EVENTS,
    SCALARS,
    SPAN_ID,
    TRACE_ID,
    assert_same_record,
    exported,
    twin_providers,
    write,
    write_stock,
    writer_for,
)

# --- equivalence with Logger.emit ----------------------------------------------


@pytest.mark.parametrize("route", ["batches", "processors"])
@pytest.mark.parametrize("event", EVENTS, ids=[f"event{i}" for i in range(len(EVENTS))])
def test_direct_record_equals_the_stock_record(
    make_provider: Callable[..., LoggerProvider], route: str, event: dict[str, Any]
) -> None:
    """Same event, same provider setup: the exported records are identical, also as OTLP."""
    resource = Resource({"service.name": "svc", "deployment.environment": "test"}, "https://s/1")
    (ours, ours_exporter), (stock, stock_exporter) = twin_providers(make_provider, route, resource)
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
    (ours, ours_exporter), (stock, stock_exporter) = twin_providers(make_provider, route, resource)
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
    (ours, ours_exporter), (stock, stock_exporter) = twin_providers(
        make_provider, "batches", resource
    )
    writer = writer_for(ours)
    for i, event in enumerate(EVENTS):
        write(writer, **{"ts_ns": 10 + i, **event})
        write_stock(stock, **{"ts_ns": 10 + i, **event})
    mine, theirs = exported(ours, ours_exporter), exported(stock, stock_exporter)
    assert len(mine) == len(theirs) == len(EVENTS)
    assert encode_logs_request(mine) == encode_logs(theirs).SerializeToString()


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
