"""Shared pieces for applying the redaction engine to OpenTelemetry data.

Used by :mod:`otel_distro.processors.redaction` (log records in ``on_emit``)
and :mod:`otel_distro.exporters.redacting` (spans, log records and metrics in
the export thread): the process redactor lookup, a per-resource cache, log
record redaction in place, the failure count and the ``otel_distro.redactions``
counter.  Nothing here raises into the application: a failure of redaction is
an internal error (:func:`otel_distro._report.internal_error`), and what could
not be redacted is dropped or masked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from opentelemetry._logs import LogRecord
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.resources import Resource
from opentelemetry.util.types import AnyValue, Attributes

from otel_distro._names import REPORT_ATTRIBUTE
from otel_distro._report import internal_error, observe_internal_errors
from otel_distro._state import slot
from otel_distro.redaction import REDACTED, RedactionReport, Redactor, get_redactor

_errors_lock = threading.Lock()
_errors = slot("redaction.pipeline_errors", int)


def count_error(what: str) -> None:
    """Count a failed redaction of a *what* (``pipeline_error``); call it inside ``except``.

    Call it after dropping or masking what failed: the internal-error guard it
    hands the exception to re-raises it under ``OTEL_DISTRO_RAISE_INTERNAL_ERRORS``.
    """
    with _errors_lock:
        _errors.value += 1
    internal_error(f"redaction.{what}")


def redactor_or_default(explicit: Redactor | None) -> Redactor:
    if explicit is not None:
        return explicit
    try:
        return get_redactor()
    except Exception:
        count_error("configuration")
        return Redactor()


class ResourceCache:
    """Redacted copies of resources (one per provider, so the cache stays tiny)."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[Resource, Resource]] = {}

    def get(self, resource: Resource, redactor: Redactor) -> Resource:
        cached = self._items.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1]
        report = RedactionReport()
        attributes = redactor.redact_mapping(resource.attributes, report=report)
        redacted = Resource(attributes, resource.schema_url) if report else resource
        if len(self._items) >= 8:
            self._items.clear()
        self._items[id(resource)] = (resource, redacted)
        return redacted


def redact_attributes(
    attributes: Mapping[str, AnyValue] | None,
    redactor: Redactor | None = None,
    report: RedactionReport | None = None,
) -> dict[str, AnyValue] | None:
    """A redacted copy of ``attributes`` (``None`` stays ``None``); never raises."""
    if attributes is None:
        return None
    try:
        return redactor_or_default(redactor).redact_mapping(attributes, report=report)
    except Exception:
        masked: dict[str, AnyValue] = {str(key): REDACTED for key in attributes}
        count_error("attributes")
        return masked


# --- spans ---------------------------------------------------------------------


def redact_log_record(record: LogRecord, redactor: Redactor) -> None:
    """Redact body and attributes of an API ``LogRecord`` in place."""
    report = RedactionReport()
    body = record.body
    if isinstance(body, str):
        record.body = redactor.redact_text(body, report=report, path="body")
    elif body is not None:
        record.body = redactor.redact_value(body, report=report, path="body")
    if record.attributes or report:
        attributes = redactor.redact_mapping(record.attributes, report=report)
        if report:
            attributes[REPORT_ATTRIBUTE] = report.entries
        record.attributes = _like(record.attributes, attributes)


def _like(
    original: Attributes, attributes: dict[str, AnyValue]
) -> BoundedAttributes | dict[str, AnyValue]:
    """``attributes`` as BoundedAttributes with the original's limits and dropped count."""
    if not isinstance(original, BoundedAttributes):
        return attributes
    bounded = BoundedAttributes(
        maxlen=original.maxlen,
        attributes=attributes,
        immutable=False,
        max_value_len=original.max_value_len,
    )
    bounded.dropped += original.dropped
    return bounded


# --- metrics -------------------------------------------------------------------


def observe_redactions(meter: Meter, redactor: Redactor | None = None) -> None:
    """Create the distro's own counters on ``meter``: ``otel_distro.redactions`` (by ``rule``)
    and, beside it, ``otel_distro.internal_errors`` (by ``where``).

    ``pipeline_error`` counts spans dropped, log records masked and metric
    batches withheld because redaction itself failed.
    """

    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        counts = redactor_or_default(redactor).counts()
        errors = _errors.value
        if errors:
            counts["pipeline_error"] = errors
        return [Observation(count, {"rule": rule}) for rule, count in sorted(counts.items())]

    meter.create_observable_counter(
        "otel_distro.redactions",
        callbacks=[callback],
        unit="{redaction}",
        description="Values or substrings replaced by redaction, by rule name.",
    )
    observe_internal_errors(meter)
