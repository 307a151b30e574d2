"""A metric exporter that keeps what it is given, for unit tests of metric wrappers."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import Counter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)

__all__ = ["MetricsCapture"]


class MetricsCapture(MetricExporter):
    """Keeps every exported batch in ``data``; ``delta`` asks for delta counters."""

    def __init__(self, delta: bool = False) -> None:
        temporality = {Counter: AggregationTemporality.DELTA} if delta else None
        super().__init__(preferred_temporality=temporality)
        self.data: list[MetricsData] = []

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.data.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None
