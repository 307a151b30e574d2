"""The public surface is exactly what the facade declares, and each name does its job."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_distro
from otel_distro.redaction import REDACTED, get_redactor, reset_redactor

PUBLIC = [
    "__version__",
    "add_rule",
    "correlation_id",
    "current_tenant",
    "flush",
    "get_logger",
    "instrument",
    "set_tenant",
]


def test_all_is_exact() -> None:
    """``__all__`` is pinned, and the module exposes nothing public beyond it."""
    assert sorted(otel_distro.__all__) == PUBLIC
    public = {name for name in vars(otel_distro) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(otel_distro, name)).__name__ == "module"}
    helpers = {"annotations", "Any", "TYPE_CHECKING"}
    assert public - modules - helpers == set(otel_distro.__all__) - {"__version__"}


@pytest.mark.parametrize("name", [name for name in PUBLIC if name != "__version__"])
def test_every_public_name_is_documented(name: str) -> None:
    """Each facade function has a docstring: it is the user documentation."""
    assert (getattr(otel_distro, name).__doc__ or "").strip()


def test_get_logger_binds_initial_values() -> None:
    logger = otel_distro.get_logger("facade", component="billing")
    assert logger is not None
    assert callable(logger.info)


def test_version_matches_the_distribution() -> None:
    from importlib.metadata import version

    assert otel_distro.__version__ == version("otel-distro")


@pytest.fixture
def fresh_redactor() -> Iterator[None]:
    reset_redactor()
    yield
    reset_redactor()


@pytest.mark.usefixtures("fresh_redactor")
def test_add_rule_applies_to_the_process_redactor() -> None:
    """A rule added through the facade redacts what it matches, by key, on the next value."""
    marker = f"ACCT-{secrets.token_hex(4)}"

    def account_numbers(key: str | None, text: str) -> str | None:
        return text.replace(marker, REDACTED) if marker in text else None

    otel_distro.add_rule(account_numbers)
    assert get_redactor().redact_value(f"paid from {marker}", key="note") == f"paid from {REDACTED}"


@pytest.fixture
def span_exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """A batching tracer provider, standing in for the global one."""
    from opentelemetry import trace

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    yield exporter
    provider.shutdown()


def test_flush_exports_what_is_still_batched(span_exporter: InMemorySpanExporter) -> None:
    """A span waiting in the batch processor is exported by flush(), which reports success."""
    from opentelemetry import trace

    trace.get_tracer_provider().get_tracer("t").start_span("job").end()
    assert span_exporter.get_finished_spans() == ()
    assert otel_distro.flush() is True
    assert [span.name for span in span_exporter.get_finished_spans()] == ["job"]


class _FailingProvider:
    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        raise RuntimeError("exporter down")


def test_flush_never_raises(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A provider whose flush raises makes flush() return False, said once on stderr."""
    from opentelemetry import metrics

    from otel_distro._report import reset_reports

    reset_reports()
    monkeypatch.setattr(metrics, "get_meter_provider", _FailingProvider)
    assert otel_distro.flush() is False
    assert "flush: _FailingProvider failed (RuntimeError)" in capsys.readouterr().err


def test_instrument_wraps_an_asgi_app_with_a_server_span() -> None:
    """The wrapped app answers as before, inside one server span."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    wrapped = otel_distro.instrument(app, tracer_provider=provider)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/job",
        "raw_path": b"/job",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(wrapped(scope, receive, send))
    assert sent[0]["status"] == 204
    spans = exporter.get_finished_spans()
    assert [span.kind.name for span in spans] == ["SERVER"]
