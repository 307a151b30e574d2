"""Values and attribute limits that need the SDK: the record goes through ``Logger.emit``."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import pytest
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordDroppedAttributesWarning,
    LogRecordLimits,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
)
from opentelemetry.sdk.resources import Resource

from tests.support.records import (
    assert_same_record,
    exported,
    twin_providers,
    write,
    write_stock,
    writer_for,
)

# --- values and limits that need the SDK ---------------------------------------


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_non_scalar_values_fall_back_to_the_sdk(
    make_provider: Callable[..., LoggerProvider], route: str
) -> None:
    """Lists and dicts go through ``Logger.emit``: lists become tuples, as the SDK makes them."""
    attributes = {"ids": [1, 2, 3], "names": ["a", "b"], "nested": {"k": "v"}, "s": "x"}
    resource = Resource({"service.name": "svc"})
    (ours, ours_exporter), (stock, stock_exporter) = twin_providers(make_provider, route, resource)
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
