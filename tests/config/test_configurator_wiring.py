"""The configurator hands the SDK the corrected variables once, and gives the user's back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from otel_distro import configurator
from otel_distro.config import load_settings, reset_settings


@pytest.fixture
def sdk_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """``_initialize_components`` recorded (with the environment it saw), nothing global set."""
    from opentelemetry.sdk import _configuration

    calls: list[dict[str, Any]] = []

    def initialize(**kwargs: Any) -> None:
        calls.append({"environ": dict(os.environ), **kwargs})

    reset_settings()
    monkeypatch.setattr(_configuration, "_initialize_components", initialize)
    monkeypatch.setattr(configurator, "_configured_sdk", False)
    monkeypatch.setattr(configurator, "install_propagators", lambda settings: None)
    monkeypatch.setattr(configurator, "_observe_redactions", lambda: None)
    monkeypatch.setattr(configurator, "_configure_logging", lambda settings, with_provider: None)
    yield calls
    reset_settings()


SETTINGS = {"OTEL_DISTRO_FLUSH_ON_SIGTERM": "false", "OTEL_DISTRO_FILE_FALLBACK": "false"}


def test_the_sdk_sees_corrected_values_and_the_user_keeps_theirs(
    monkeypatch: pytest.MonkeyPatch, sdk_calls: list[dict[str, Any]]
) -> None:
    """A refused batch size is unset and a bad protocol replaced while the SDK sets up only."""
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "-1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "carrier-pigeon")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp,bogus")
    before = dict(os.environ)
    configurator.configure_sdk(load_settings(SETTINGS))
    (call,) = sdk_calls
    seen = call["environ"]
    assert "OTEL_BSP_MAX_QUEUE_SIZE" not in seen
    assert seen["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == "http/protobuf"
    assert seen["OTEL_METRICS_EXPORTER"] == "otlp"
    assert dict(os.environ) == before


def test_default_endpoints_are_ipv4_loopback(
    monkeypatch: pytest.MonkeyPatch, sdk_calls: list[dict[str, Any]]
) -> None:
    """Without an endpoint, each OTLP exporter class is pointed at 127.0.0.1 for its signal."""
    for name in ("", "_TRACES", "_METRICS", "_LOGS"):
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP{name}_ENDPOINT", raising=False)
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP{name}_PROTOCOL", raising=False)
    for signal in ("TRACES", "METRICS", "LOGS"):
        monkeypatch.setenv(f"OTEL_{signal}_EXPORTER", "otlp")
    configurator.configure_sdk(load_settings(SETTINGS))
    (call,) = sdk_calls
    endpoints = sorted(args["endpoint"] for args in call["exporter_args_map"].values())
    assert endpoints == [
        "http://127.0.0.1:4318/v1/logs",
        "http://127.0.0.1:4318/v1/metrics",
        "http://127.0.0.1:4318/v1/traces",
    ]


def test_an_explicit_endpoint_is_left_to_the_sdk(
    monkeypatch: pytest.MonkeyPatch, sdk_calls: list[dict[str, Any]]
) -> None:
    """A usable endpoint the user set is not overridden by exporter arguments."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.internal:4318")
    configurator.configure_sdk(load_settings(SETTINGS))
    (call,) = sdk_calls
    assert call["exporter_args_map"] == {}
    assert call["environ"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.internal:4318"


def test_configuring_twice_wires_once(sdk_calls: list[dict[str, Any]]) -> None:
    """A second call (another entry point, a reload) does not build a second pipeline."""
    configurator.configure_sdk(load_settings(SETTINGS))
    configurator.configure_sdk(load_settings(SETTINGS))
    assert len(sdk_calls) == 1


def test_the_span_export_processor_encodes_with_the_direct_encoder() -> None:
    """The processor the SDK gets redacts in the export thread, whose OTLP/HTTP exporter
    then encodes with the direct span encoder."""
    from opentelemetry.exporter.otlp.proto.http import trace_exporter
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_distro.exporters._otlp_spans import _encode_spans
    from otel_distro.exporters.redacting import RedactingSpanExporter

    processor: Any = configurator._export_span_processor(InMemorySpanExporter())
    try:
        assert trace_exporter.encode_spans is _encode_spans
        assert isinstance(processor._batch_processor._exporter, RedactingSpanExporter)
    finally:
        processor.shutdown()
