"""Fixtures and helpers shared by the logging tests (a pytest plugin of the root conftest).

``logs`` configures the distro's logging against an SDK ``LoggerProvider`` with
an in-memory exporter (``configure_route`` on a provider whose records take a
given route); every test starts and ends with clean environment, settings,
structlog and standard-library logging state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from otel_distro import logging as logs
from otel_distro._report import RAISE_VARIABLE
from otel_distro.config import VARIABLES, Settings, load_settings, reset_settings
from otel_distro.processors.baggage import BaggageAttributesLogProcessor
from otel_distro.processors.redaction import RedactingLogRecordProcessor

# The test suite's own switch (internal errors re-raised) stays as the suite set it.
_ENV_NAMES = [v.name for v in VARIABLES if v.name != RAISE_VARIABLE] + [
    "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED",
    "OTEL_SDK_DISABLED",
]


def _reset_redactor() -> None:
    try:
        from otel_distro.redaction import reset_redactor
    except ImportError:
        return
    reset_redactor()


@pytest.fixture
def clean_logging_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clean env, settings, redactor, structlog and root-logger state around each test."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {n: logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    saved = {n: (list(lg.handlers), lg.propagate, lg.level) for n, lg in named.items()}
    reset_settings()
    _reset_redactor()
    yield
    logs.reset()
    reset_settings()
    _reset_redactor()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
    for n, (hs, propagate, lvl) in saved.items():
        named[n].handlers[:] = hs
        named[n].propagate = propagate
        named[n].setLevel(lvl)


@dataclass
class Logs:
    """A configured logging setup and what it produced."""

    provider: LoggerProvider
    exporter: InMemoryLogRecordExporter
    capsys: pytest.CaptureFixture[str]
    _out: list[str] = field(default_factory=list)

    def records(self) -> list[ReadableLogRecord]:
        """Every exported record so far (flushes the queue first)."""
        self.provider.force_flush()
        return list(self.exporter.get_finished_logs())

    def lines(self) -> list[str]:
        """Every stdout line written so far (flushes the queue first)."""
        logs.flush()
        self._out.extend(self.capsys.readouterr().out.splitlines())
        return list(self._out)

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def attributes(self, index: int = -1) -> dict[str, Any]:
        return dict(self.records()[index].log_record.attributes or {})


def make_settings(**env: str) -> Settings:
    return load_settings({"ENVIRONMENT": "production", **env})


@pytest.fixture
def setup_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., Logs]]:
    """Configure logging with the given environment values; returns a :class:`Logs`."""
    providers: list[LoggerProvider] = []

    def setup(**env: str) -> Logs:
        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        providers.append(provider)
        logs.configure(make_settings(**env), provider)
        return Logs(provider, exporter, capsys)

    yield setup
    for provider in providers:
        provider.shutdown()


@pytest.fixture
def log_setup(setup_logs: Callable[..., Logs]) -> Logs:
    """Logging configured for production (JSON lines, INFO)."""
    return setup_logs()


# --- one provider per record route (batches, processors, emit) -------------------


def route_provider(route: str, exporter: InMemoryLogRecordExporter, *first: Any) -> LoggerProvider:
    """A provider whose records take *route* (processors in *first* come before the sink)."""
    kwargs: dict[str, Any] = {}
    if route == "emit":
        kwargs["log_record_limits"] = LogRecordLimits(max_attribute_length=100_000)
    provider = LoggerProvider(
        resource=Resource({"service.name": "svc"}), shutdown_on_exit=False, **kwargs
    )
    provider.add_log_record_processor(BaggageAttributesLogProcessor(("tenant.id", "user.id")))
    provider.add_log_record_processor(RedactingLogRecordProcessor())
    for processor in first:
        provider.add_log_record_processor(processor)
    if route == "batches":
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter, max_queue_size=16384))
    else:
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider


@pytest.fixture
def configure_route(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Logs]]:
    """``configure_route(route, *processors, **env)``: ``logs.configure`` on such a provider."""
    for name in ("OTEL_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    providers: list[LoggerProvider] = []

    def setup(route: str, *first: Any, **env: str) -> Logs:
        exporter = InMemoryLogRecordExporter()
        provider = route_provider(route, exporter, *first)
        providers.append(provider)
        logs.configure(make_settings(**env), provider)
        writer = logs._emitter.writer
        assert writer is not None and writer.route == route
        return Logs(provider, exporter, capsys)

    yield setup
    logs.flush()
    for provider in providers:
        provider.shutdown()


def new_tracer() -> trace.Tracer:
    """A tracer of a fresh SDK provider (spans with real ids, exported nowhere)."""
    return TracerProvider().get_tracer("t")


def span_ids(span: trace.Span) -> tuple[str, str]:
    """The span's trace and span id as the log lines write them (lowercase hex)."""
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")
