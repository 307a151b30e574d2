"""The one redaction call per record, through ``otel_distro.redaction`` when present."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Redact", "load_redact"]


class Redact(Protocol):
    def __call__(self, body: Any, attributes: dict[str, Any]) -> tuple[Any, dict[str, Any]]: ...


def _identity(body: Any, attributes: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    return body, attributes


def load_redact() -> Redact:
    """A function redacting (body, attributes); identity if the engine is unavailable."""
    try:
        from otel_distro.redaction import get_redactor  # type: ignore[attr-defined,unused-ignore]

        redactor = get_redactor()
        redact_mapping = redactor.redact_mapping
        redact_text = redactor.redact_text
        redact_value = redactor.redact_value
    except Exception:
        return _identity

    def redact(body: Any, attributes: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        try:
            if type(body) is str:
                body = redact_text(body)
            elif body is not None:
                body = redact_value(body)
            if attributes:
                result = redact_mapping(attributes)
                attributes = result if type(result) is dict else dict(result)
        except Exception:
            return "<redaction failed>", {}
        return body, attributes

    return redact
