"""The one redaction call per record, through ``otel_distro.redaction`` when present."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["REPORT_ATTRIBUTE", "Redact", "load_redact"]

#: The same attribute the span and log redaction pipeline adds (``rule:path`` entries).
REPORT_ATTRIBUTE = "otel_distro.redacted"


class Redact(Protocol):
    def __call__(self, body: Any, attributes: dict[str, Any]) -> tuple[Any, dict[str, Any]]: ...


def _identity(body: Any, attributes: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    return body, attributes


def load_redact() -> Redact:
    """A function redacting (body, attributes); identity if the engine is unavailable."""
    try:
        from otel_distro.redaction import (  # type: ignore[attr-defined,unused-ignore]
            RedactionReport,
            get_redactor,
        )

        redactor = get_redactor()
        known_clean = redactor.known_clean
        redact_mapping = redactor.redact_mapping
        redact_text = redactor.redact_text
        redact_value = redactor.redact_value
    except Exception:
        return _identity

    def redact(body: Any, attributes: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        try:
            if known_clean(body, attributes):  # values seen clean before: nothing to scan
                return body, attributes
            report = RedactionReport()
            if type(body) is str:
                body = redact_text(body, report=report, path="body")
            elif body is not None:
                body = redact_value(body, report=report, path="body")
            if attributes:
                result = redact_mapping(attributes, report=report)
                attributes = result if type(result) is dict else dict(result)
            if report:  # what was replaced (rule:path, never the text), as on spans
                attributes[REPORT_ATTRIBUTE] = list(report.entries)
        except Exception:
            return "<redaction failed>", {}
        return body, attributes

    return redact
