"""Fixtures for the external HTTP client: a real stand-in third party and in-memory telemetry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.config import reset_settings
from otel_distro.http import _hooks
from otel_distro.redaction import reset_redactor
from tests.support import AppProcess, launch_app

_VARIABLES = (
    "ENVIRONMENT",
    "EXTERNAL_HTTP_ENABLE_BODY_LOGGING",
    "EXTERNAL_HTTP_MAX_BODY_BYTES",
    "EXTERNAL_HTTP_TIMEOUT_SECONDS",
    "OTEL_DISTRO_BAGGAGE_PROPAGATE_TO",
    "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS",
)


@pytest.fixture(scope="session")
def third_party() -> Iterator[AppProcess]:
    """The stand-in third-party API (``tests/http/third_party.py``) under plain uvicorn."""
    with launch_app("tests.http.third_party:app", instrument=False) as process:
        yield process


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTEL_DISTRO_RAISE_INTERNAL_ERRORS", "1")
    reset_settings()
    reset_redactor()
    yield
    reset_settings()
    reset_redactor()


def configure(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """Set distro variables for one test and re-read the settings."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    reset_redactor()


@dataclass
class Telemetry:
    """What the factory clients of one test produced."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def providers(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def metric(self, name: str) -> Any:
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        return metric
        raise AssertionError(f"no metric {name}")

    def everything(self) -> str:
        """Every span, event, metric point and record as one text (for secret checks)."""
        parts: list[str] = []
        for span in self.spans():
            parts.append(span.to_json())
        data = self.reader.get_metrics_data()
        if data is not None:
            parts.append(data.to_json())
        parts.extend(repr(record) for record in self.records)
        return "\n".join(parts)


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """In-memory spans and metrics for the clients built with ``**telemetry.providers``;
    ``external_http_call`` records as ``(level, event, fields)``."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    captured = Telemetry(tracer_provider, meter_provider, exporter, reader)
    monkeypatch.setattr(_hooks, "_emit", lambda *args: captured.records.append(args))
    yield captured
    meter_provider.shutdown()
    tracer_provider.shutdown()
