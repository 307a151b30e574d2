"""The SDK's per-batch export warnings, filtered: the delivery lines count them instead.

``Transient error ... retrying``, ``Failed to export ...`` and the per-item
``Queue full`` warnings are dropped from the exporters' loggers; their reason is
kept for the outage line, and queue drops are counted by signal.
"""

from __future__ import annotations

import logging

from otel_distro._report import internal_error
from otel_distro.exporters._delivery import SIGNALS, _dropped, _last_reason, reason_of

__all__ = ["EXPORTER_LOGGERS", "quiet_exporter_loggers"]

# Loggers the SDK's exporters and batch processors write per-batch/per-item noise to.
EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.metrics._internal.export",
)
_NOISE = (
    "Transient error",
    "Failed to export",
    "Shutdown in progress",
    "Exporter already shutdown",
    "OTLP client already shutdown",
    "Queue full",
)
_QUEUE_SIGNAL = {"span": "spans", "log": "logs"}


class _QuietFilter(logging.Filter):
    """Drops the per-batch export warnings; keeps their reason and counts queue drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = str(record.msg)
            if not message.startswith(_NOISE):
                return True
            args = record.args if isinstance(record.args, tuple) else ()
            if message.startswith("Queue full") and args:
                signal = _QUEUE_SIGNAL.get(str(args[0]).lower())
                if signal:
                    _dropped.value[signal] = _dropped.value.get(signal, 0) + 1
            elif message.startswith(("Transient error", "Failed to export")):
                signal = _signal_of(record.name, args)
                error = args[-1] if message.startswith("Failed to export %s batch code") else None
                if message.startswith("Transient error") and args:
                    error = args[0]
                if signal and error is not None:
                    _last_reason.value[signal] = reason_of(error)
            return False
        except Exception:
            internal_error("exporters.delivery.filter")
            return True


def _signal_of(logger: str, args: tuple[object, ...]) -> str | None:
    for arg in args:
        if arg in SIGNALS:
            return str(arg)
    if "trace" in logger:
        return "spans"
    if "log" in logger:
        return "logs"
    if "metric" in logger:
        return "metrics"
    return None


_filter = _QuietFilter()


def quiet_exporter_loggers() -> None:
    """Install the filter on the SDK exporters' loggers (idempotent)."""
    for name in EXPORTER_LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:  # first: before the SDK's duplicate filter
            logger.filters.insert(0, _filter)
