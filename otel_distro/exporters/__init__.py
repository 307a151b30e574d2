"""Exporters: redacting wrappers, the OTLP-JSON file fallback, the direct OTLP encoders.

Exporters run in the SDK's export threads; they are quiet on failure and
never block a request.
"""

from __future__ import annotations

from otel_distro.exporters.files import (
    FileLogExporter,
    FileMetricExporter,
    FileSpanExporter,
    JsonLinesWriter,
    endpoint_reachable,
)
from otel_distro.exporters.redacting import (
    RedactingLogRecordExporter,
    RedactingMetricExporter,
    RedactingSpanExporter,
)

__all__ = [
    "FileLogExporter",
    "FileMetricExporter",
    "FileSpanExporter",
    "JsonLinesWriter",
    "RedactingLogRecordExporter",
    "RedactingMetricExporter",
    "RedactingSpanExporter",
    "endpoint_reachable",
]
