"""Helpers for the ``otel-distro`` command's tests: run it as a user would, write OTLP files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otel_distro.exporters.files import FileSpanExporter

BIN = Path(sys.executable).parent / "otel-distro"
Run = Callable[..., subprocess.CompletedProcess[str]]


def _clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "LOG_", "SENTRY_", "ENABLE_", "EXTERNAL_HTTP_", "JAEGER"))
    }
    env["OTEL_DISTRO_FILE_FALLBACK_DIR"] = "telemetry"
    env.update(extra)
    return env


@pytest.fixture
def cli(tmp_path: Path) -> Run:
    """``cli("doctor", env={...})``: the installed console script, in a scratch folder."""

    def run(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args],
            env=_clean_env(env or {}),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def span_files(tmp_path: Path) -> tuple[Path, TracerProvider]:
    """A folder and a tracer provider whose spans the distro's file exporter writes there."""
    folder = tmp_path / "files"
    provider = TracerProvider(resource=Resource({"service.name": "panel-api"}))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(folder)))
    return folder, provider


def trace_id_of(span: trace.Span) -> str:
    return format(span.get_span_context().trace_id, "032x")
