"""The flow instruments of the SSE broker, and the bounded stream-name attribute.

Every attribute value here comes from a closed set (outcomes, close reasons) or
from :func:`stream_label`, which redacts a stream name once and admits at most
:data:`MAX_STREAMS` distinct names per process; later names share ``_other``.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry import metrics

__all__ = [
    "MAX_STREAMS",
    "OUTCOME",
    "REASON",
    "STREAM",
    "FlowInstruments",
    "stream_label",
]

STREAM = "otel_distro.sse.stream"
OUTCOME = "otel_distro.sse.outcome"
REASON = "otel_distro.sse.close_reason"

#: Distinct stream names used as attribute values; more would grow every instrument.
MAX_STREAMS = 64
_MAX_NAME = 64
OTHER_STREAM = "_other"

_labels: dict[str, str] = {}
_labels_lock = threading.Lock()

_DEPTH_BUCKETS = (0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)
_DURATION_BUCKETS = (0.1, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400)


def stream_label(name: str) -> str:
    """The attribute value for a stream name: redacted, cut to 64 characters, bounded."""
    with _labels_lock:
        label = _labels.get(name)
        if label is not None:
            return label
        if len(_labels) >= MAX_STREAMS:
            return OTHER_STREAM
        from otel_distro.redaction import get_redactor

        redacted = get_redactor().redact_value(name[:_MAX_NAME], key=STREAM)
        label = redacted if isinstance(redacted, str) and redacted else OTHER_STREAM
        _labels[name] = label
        return label


def reset_stream_labels() -> None:
    """Forget the stream names seen (tests)."""
    with _labels_lock:
        _labels.clear()


class FlowInstruments:
    """The broker's instruments, from one meter (the global one unless given)."""

    def __init__(self, meter_provider: Any = None) -> None:
        from otel_distro import __version__

        meter = metrics.get_meter("otel_distro.messaging", __version__, meter_provider)
        self.messages = meter.create_counter(
            "otel_distro.sse.messages",
            unit="{message}",
            description="Messages handed to an SSE broker (consumed) and offered to each "
            "subscriber (forwarded or dropped).",
        )
        self.subscribers = meter.create_up_down_counter(
            "otel_distro.sse.subscribers",
            unit="{subscriber}",
            description="Open SSE subscribers.",
        )
        self.queue_depth = meter.create_histogram(
            "otel_distro.sse.queue.depth",
            unit="{message}",
            description="Messages waiting in a subscriber's queue when a message is offered.",
            explicit_bucket_boundaries_advisory=_DEPTH_BUCKETS,
        )
        self.backpressure = meter.create_counter(
            "otel_distro.sse.backpressure",
            unit="{episode}",
            description="Backpressure episodes: a subscriber's queue was full (it ends when "
            "the queue drains below half).",
        )
        self.connections = meter.create_counter(
            "otel_distro.sse.connections",
            unit="{connection}",
            description="SSE subscribers closed, by reason.",
        )
        self.duration = meter.create_histogram(
            "otel_distro.sse.connection.duration",
            unit="s",
            description="How long SSE subscribers stayed connected, by close reason.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
