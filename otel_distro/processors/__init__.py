"""Span and log processors: context copied onto telemetry, redaction, the access log, the sampler.

Processors run in the application's threads (``on_start``/``on_end``/``on_emit``)
and never raise into it.
"""

from __future__ import annotations

from otel_distro.processors.access_log import AccessLogSpanProcessor
from otel_distro.processors.baggage import (
    BaggageAttributesLogProcessor,
    BaggageAttributesSpanProcessor,
)
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.processors.sampling import DropAsgiInternalSpans

__all__ = [
    "AccessLogSpanProcessor",
    "BaggageAttributesLogProcessor",
    "BaggageAttributesSpanProcessor",
    "DropAsgiInternalSpans",
    "RedactingLogRecordProcessor",
]
