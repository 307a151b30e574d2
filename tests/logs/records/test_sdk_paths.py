"""Providers without exporting processors, other SDK releases, and the SDK's own log metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource

from otel_distro.logging._emit import SCOPE
from otel_distro.processors.baggage import BaggageAttributesLogProcessor
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from tests.support.records import (
    assert_same_record,
    disabling,
    exported,
    twin_providers,
    write,
    write_stock,
    writer_for,
)

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
    (ours, ours_exporter), (stock, stock_exporter) = twin_providers(
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
            kwargs["_logger_configurator"] = disabling(SCOPE)
        provider = make_provider(*processors, **kwargs)
        for _ in range(3):
            if direct:
                write(writer_for(provider))
            else:
                write_stock(provider)
        counts.append(_created_logs(reader))
    assert counts[0] == counts[1] == (0 if setup == "disabled" else 3)
