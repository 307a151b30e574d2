"""A security harness: real SDK providers with in-memory exporters, and an instrumented ASGI app.

``security(**env)`` builds the settings from ``env``, resets the security state with an
in-memory meter provider, configures the distro's logging against an in-memory log
exporter, and returns a :class:`Harness` whose ``client()`` calls a Starlette app wrapped
by :func:`otel_distro.asgi.instrument` (the distro's hook and response watcher included).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.routing import Route

from otel_distro.asgi import instrument, reset_hook_state
from otel_distro.config import load_settings, reset_settings
from otel_distro.security import reset_security
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


@dataclass
class Harness:
    """What one configured test produced: spans, log records and metric points."""

    logs: Logs
    spans_exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider

    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_exporter.get_finished_spans())

    def server_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.kind.name == "SERVER"]

    def records(self, body: str | None = None) -> list[Any]:
        found = [r.log_record for r in self.logs.records()]
        return [r for r in found if body is None or r.body == body]

    def points(self, name: str) -> list[tuple[dict[str, Any], int]]:
        """(attributes, cumulative value) of every point of the counter ``name``."""
        data = self.reader.get_metrics_data()
        found: list[tuple[dict[str, Any], int]] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found.append((dict(point.attributes or {}), int(point.value)))
        return found

    def app(self, *routes: Route) -> Any:
        return instrument(
            Starlette(routes=list(routes)),
            tracer_provider=self.tracer_provider,
            exclude_spans=["receive", "send"],
        )

    def client(self, *routes: Route, client: tuple[str, int] = ("127.0.0.1", 5000)) -> Any:
        transport = httpx.ASGITransport(app=self.app(*routes), client=client)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def security(
    setup_logs: Callable[..., Logs], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Harness]]:
    """Configure the security state, logging and in-memory providers from ``env``."""
    providers: list[Any] = []
    monkeypatch.setenv("OTEL_DISTRO_RAISE_INTERNAL_ERRORS", "1")

    def setup(**env: str) -> Harness:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        reset_hook_state()
        logs = setup_logs(**env)
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader])
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers.extend([meter_provider, tracer_provider])
        reset_security(load_settings(dict(os.environ)), meter_provider)
        return Harness(logs, exporter, reader, tracer_provider)

    yield setup
    reset_security()
    reset_hook_state()
    for provider in providers:
        provider.shutdown()
