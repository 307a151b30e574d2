"""Span and log processors that copy allow-listed context (tenant, user) onto telemetry.

Only keys in ``OTEL_DISTRO_BAGGAGE_ATTRIBUTES`` are copied, values are
length-capped, and the redacting exporters see them like any other attribute.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_distro._report import internal_error
from otel_distro.context import context_values

__all__ = ["BaggageAttributesLogProcessor", "BaggageAttributesSpanProcessor"]

MAX_VALUE_LENGTH = 256


def _capped(values: dict[str, str]) -> dict[str, str]:
    return {key: value[:MAX_VALUE_LENGTH] for key, value in values.items()}


class BaggageAttributesSpanProcessor(SpanProcessor):
    """Copies allow-listed request context / baggage entries onto every span at start."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(dict.fromkeys(keys))

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not self._keys:
            return
        try:
            values = context_values(self._keys, parent_context)
            if values:
                span.set_attributes(_capped(values))
        except Exception:  # never break span creation
            internal_error("processors.baggage.span")

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class BaggageAttributesLogProcessor(LogRecordProcessor):
    """Copies allow-listed request context / baggage entries onto log records.

    Registered before the batch processor, which drops the record's context.
    Records of the distro's own log bridge (scope ``otel_distro...``) already
    carry these keys and are skipped; keys already on a record win.
    """

    #: On records of the distro's own scope ``on_emit`` does nothing (the bridge may skip it).
    skips_own_records = True

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(dict.fromkeys(keys))

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if not self._keys:
            return
        try:
            scope = log_record.instrumentation_scope
            if scope is not None and scope.name.startswith("otel_distro"):
                return
            record = log_record.log_record
            values = context_values(self._keys, record.context)
            if not values:
                return
            attributes = dict(record.attributes or {})
            for key, value in _capped(values).items():
                attributes.setdefault(key, value)
            record.attributes = attributes
        except Exception:  # never break logging
            internal_error("processors.baggage.log_record")

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
