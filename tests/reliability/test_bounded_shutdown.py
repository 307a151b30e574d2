"""The final export is bounded: a hanging exporter cannot hold the process, and the loss is said."""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otel_distro import shutdown
from otel_distro.exporters._tracked import TrackedSpanExporter


class Hanging(SpanExporter):
    """An exporter whose export blocks until released (a black-holing collector)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        self.release.wait(60)
        return SpanExportResult.SUCCESS  # once released: nothing more is said


class Healthy(SpanExporter):
    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    exporter = Hanging()
    yield exporter
    exporter.release.set()


def provider_with(exporter: SpanExporter, spans: int) -> TracerProvider:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(
        BatchSpanProcessor(TrackedSpanExporter(exporter), schedule_delay_millis=60_000)
    )
    tracer = provider.get_tracer("test")
    for n in range(spans):
        with tracer.start_as_current_span(f"span-{n}"):
            pass
    return provider


def test_a_hanging_export_is_cut_at_the_timeout(
    hanging: Hanging, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shutdown returns although the export never does, and counts the spans it held."""
    provider = provider_with(hanging, spans=7)
    result = shutdown.shutdown_telemetry(timeout=0.2, providers=[provider])
    assert hanging.entered.is_set()
    assert result.finished is False
    assert result.unflushed == {"spans": 7}
    said = [line for line in capsys.readouterr().err.splitlines() if "otel-distro" in line]
    assert len(said) == 1
    assert "shutdown: 7 spans could not be flushed" in said[0]
    assert "OTEL_DISTRO_SHUTDOWN_TIMEOUT_SECONDS" in said[0]


def test_a_healthy_export_flushes_silently(capsys: pytest.CaptureFixture[str]) -> None:
    """With a working exporter everything queued is exported and nothing is said."""
    healthy = Healthy()
    provider = provider_with(healthy, spans=5)
    result = shutdown.shutdown_telemetry(timeout=30, providers=[provider])
    assert result.finished is True
    assert result.unflushed == {}
    assert healthy.exported == 5
    assert "otel-distro" not in capsys.readouterr().err


def test_shutdown_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    """A second shutdown (atexit after SIGTERM) does nothing: no double flush."""
    healthy = Healthy()
    provider = provider_with(healthy, spans=2)
    shutdown.shutdown_telemetry(timeout=30, providers=[provider])
    again = shutdown.shutdown_telemetry(timeout=30, providers=[provider])
    assert again.finished and again.seconds == 0.0
    assert healthy.exported == 2


def test_the_sdk_exit_hook_is_replaced() -> None:
    """The provider's own unbounded exit hook is unregistered once ours is installed."""
    provider = TracerProvider(shutdown_on_exit=True)
    handler = provider._atexit_handler
    assert handler is not None
    shutdown._forget_atexit(provider)
    assert provider._atexit_handler is None
    atexit.unregister(handler)  # harmless when already gone


def test_an_apps_sigterm_handler_is_kept() -> None:
    """The distro never replaces a SIGTERM handler the app installed."""

    def mine(signum: int, frame: object) -> None:
        return None

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        assert shutdown.install_sigterm_flush() is False
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_startup_window_gives_sigint_back() -> None:
    """After start-up, SIGINT raises KeyboardInterrupt again (the window is closed)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        shutdown.begin_startup_signals()
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        shutdown.end_startup_signals()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_startup_window_keeps_an_apps_sigint_handler() -> None:
    """A SIGINT handler that is not Python's default is left alone."""

    def mine(signum: int, frame: object) -> None:
        return None

    previous = signal.signal(signal.SIGINT, mine)
    try:
        shutdown.begin_startup_signals()
        assert signal.getsignal(signal.SIGINT) is mine
        shutdown.end_startup_signals()
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, previous)


def test_startup_sigint_outside_site_import_is_keyboard_interrupt() -> None:
    """If the start-up window stays open, SIGINT in app code still raises KeyboardInterrupt."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        shutdown.begin_startup_signals()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    finally:
        shutdown.end_startup_signals()
        signal.signal(signal.SIGINT, previous)
