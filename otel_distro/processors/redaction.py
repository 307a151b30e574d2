"""Redaction of log records in ``on_emit``, before the batch processor copies them."""

from __future__ import annotations

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource

from otel_distro._names import OWN_SCOPE_PREFIX
from otel_distro._signal_redaction import (
    ResourceCache,
    count_error,
    redact_log_record,
    redactor_or_default,
)
from otel_distro.redaction import REDACTED, Redactor

__all__ = ["RedactingLogRecordProcessor"]


class RedactingLogRecordProcessor(LogRecordProcessor):
    """Redacts body, attributes and resource of each record in ``on_emit``.

    Register it before the batch processor (which copies the record).  Records
    whose instrumentation scope starts with ``otel_distro`` are left alone: the
    structlog bridge already redacted them once.
    """

    #: On records of the distro's own scope ``on_emit`` only swaps in the redacted resource.
    skips_own_records = True

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor
        self._resources = ResourceCache()

    def __repr__(self) -> str:
        return "RedactingLogRecordProcessor()"

    def own_records_resource(self, resource: Resource) -> Resource:
        """The resource ``on_emit`` gives a record of the distro's own scope."""
        return self._resources.get(resource, redactor_or_default(self._redactor))

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        try:
            redactor = redactor_or_default(self._redactor)
            if log_record.resource is not None:
                log_record.resource = self._resources.get(log_record.resource, redactor)
            scope = log_record.instrumentation_scope
            if scope is not None and scope.name.startswith(OWN_SCOPE_PREFIX):
                return
            redact_log_record(record, redactor)
        except Exception:
            record.body = REDACTED  # fail closed first: the guard may re-raise
            record.attributes = {}
            count_error("log_record")

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
