"""The flow instruments of the SSE broker, and the bounded stream-name attribute.

Every attribute value here comes from a closed set (outcomes, close reasons) or
from :func:`stream_label`, which redacts a stream name once and admits at most
:data:`MAX_STREAMS` distinct names per process; later names share ``_other``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

__all__ = [
    "MAX_STREAMS",
    "OUTCOME",
    "REASON",
    "STREAM",
    "FlowInstruments",
    "StreamTotals",
    "flow_instruments",
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


class StreamTotals:
    """Running totals of one stream label, shared by every broker using that label."""

    __slots__ = ("consumed", "dropped", "forwarded", "lock", "subscribers")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.consumed = 0
        self.forwarded = 0
        self.dropped = 0
        self.subscribers = 0


class FlowInstruments:
    """The broker's instruments, from one meter (the global one unless given).

    Message and subscriber counts are kept as plain totals and reported by
    observable instruments when metrics are collected: exact, and no SDK call per
    message.  Queue depth, episodes and closes are recorded as they happen.
    """

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        from otel_distro import __version__

        self._totals: dict[str, StreamTotals] = {}
        self._lock = threading.Lock()
        meter = metrics.get_meter("otel_distro.messaging", __version__, meter_provider)
        meter.create_observable_counter(
            "otel_distro.sse.messages",
            callbacks=[self._observe_messages],
            unit="{message}",
            description="Messages handed to an SSE broker (consumed) and offered to each "
            "subscriber (forwarded or dropped).",
        )
        meter.create_observable_up_down_counter(
            "otel_distro.sse.subscribers",
            callbacks=[self._observe_subscribers],
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
        self.connection_events = meter.create_counter(
            "otel_distro.amqp.connection.events",
            unit="{event}",
            description="RabbitMQ connections feeding SSE brokers closed or reconnected.",
        )
        self.duration = meter.create_histogram(
            "otel_distro.sse.connection.duration",
            unit="s",
            description="How long SSE subscribers stayed connected, by close reason.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )

    def totals(self, label: str) -> StreamTotals:
        """The shared totals of a stream label."""
        with self._lock:
            found = self._totals.get(label)
            if found is None:
                found = self._totals[label] = StreamTotals()
            return found

    def _snapshot(self) -> list[tuple[str, StreamTotals]]:
        with self._lock:
            return list(self._totals.items())

    def _observe_messages(self, options: CallbackOptions) -> Iterable[Observation]:
        for label, totals in self._snapshot():
            with totals.lock:
                values = (totals.consumed, totals.forwarded, totals.dropped)
            for outcome, value in zip(("consumed", "forwarded", "dropped"), values, strict=True):
                if value or outcome == "consumed":
                    yield Observation(value, {STREAM: label, OUTCOME: outcome})

    def _observe_subscribers(self, options: CallbackOptions) -> Iterable[Observation]:
        for label, totals in self._snapshot():
            yield Observation(totals.subscribers, {STREAM: label})


_instruments: weakref.WeakKeyDictionary[Any, FlowInstruments] = weakref.WeakKeyDictionary()
_global_instruments: list[FlowInstruments] = []
_instruments_lock = threading.Lock()


def flow_instruments(meter_provider: MeterProvider | None = None) -> FlowInstruments:
    """The instruments of a meter provider (the global one when None), made once."""
    with _instruments_lock:
        if meter_provider is None:
            if not _global_instruments:
                _global_instruments.append(FlowInstruments())
            return _global_instruments[0]
        found = _instruments.get(meter_provider)
        if found is None:
            found = _instruments[meter_provider] = FlowInstruments(meter_provider)
        return found
