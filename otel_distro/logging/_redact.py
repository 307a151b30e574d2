"""The one redaction call per record, through ``otel_distro.redaction`` when present."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from opentelemetry.util.types import AnyValue

from otel_distro._names import REPORT_ATTRIBUTE
from otel_distro._report import internal_error

if TYPE_CHECKING:
    from otel_distro.redaction import Redactor

__all__ = ["REPORT_ATTRIBUTE", "Redact", "load_redact"]


_NAMES_MAX = 1024  # logger names are few; a process inventing them per call stays bounded
_NAME_LIMIT = 4096


class Redact(Protocol):
    def __call__(
        self,
        body: AnyValue,
        attributes: dict[str, AnyValue],
        name: str | None = None,
        carried: bool = False,
    ) -> tuple[AnyValue, dict[str, AnyValue], str | None]: ...


def _identity(
    body: AnyValue, attributes: dict[str, AnyValue], name: str | None = None, carried: bool = False
) -> tuple[AnyValue, dict[str, AnyValue], str | None]:
    return body, attributes, name


def load_redact() -> Redact:
    """A function redacting (body, attributes, logger name); identity without the engine.

    A text body passes through its logger's carry (see ``_carries``): records are
    completed in the order they were made, so a secret split across consecutive
    records of one logger is replaced in each of them.

    It uses the process redactor current at each call, so rules added after logging
    was configured (``add_rule`` at the application's import) apply to its records.
    """
    try:
        from otel_distro.redaction import (  # type: ignore[attr-defined,unused-ignore]
            RedactionReport,
            TextCarry,
            get_redactor,
        )

        get_redactor()
    except Exception:
        internal_error("logging.load_redact")
        return _identity

    from otel_distro.logging._carries import Carries
    from otel_distro.logging._values import safe_str

    # a PEM block or ``password:`` value split across one logger's consecutive records
    carries = Carries(TextCarry)

    # logger name -> (redacted name, report entries), for the redactor they came from
    names: dict[str, tuple[str, tuple[str, ...]]] = {}
    owner: list[Redactor | None] = [None]

    def redact_name(redactor: Redactor, name: str) -> tuple[str, tuple[str, ...]]:
        text = safe_str(name, _NAME_LIMIT)  # also what OTLP and JSON can hold
        report = RedactionReport()
        redacted = redactor.redact_text(text, report=report, path="logger.name")
        if len(names) >= _NAMES_MAX:
            names.clear()
        if type(name) is str:
            names[name] = (redacted, tuple(report.entries))
        return redacted, tuple(report.entries)

    def redact(
        body: AnyValue,
        attributes: dict[str, AnyValue],
        name: str | None = None,
        carried: bool = False,
    ) -> tuple[AnyValue, dict[str, AnyValue], str | None]:
        name_in = name
        try:
            redactor = get_redactor()
            named: tuple[str, tuple[str, ...]] | None = None
            if name is not None:
                if owner[0] is not redactor:
                    names.clear()
                    owner[0] = redactor
                named = names.get(name) if type(name) is str else None
                if named is None:
                    named = redact_name(redactor, name)
                name = named[0]
            carry = None
            if type(body) is str and not carried:
                carry = carries.for_text(name_in, body)
            if carry is None and redactor.known_clean(body, attributes):  # seen clean: no scan
                if named is None or not named[1]:
                    return body, attributes, name
                shown: list[AnyValue] = list(named[1])
                attributes[REPORT_ATTRIBUTE] = shown
                return body, attributes, name
            report = RedactionReport()
            if type(body) is str:
                body = redactor.redact_text(body, report=report, path="body", carry=carry)
            elif body is not None:
                body = redactor.redact_value(body, report=report, path="body")
            if attributes:
                result = redactor.redact_mapping(attributes, report=report)
                attributes = result if type(result) is dict else dict(result)
            entries: list[AnyValue] = list(report.entries)
            if named is not None and named[1]:
                entries.extend(named[1])
            if entries:  # what was replaced (rule:path, never the text), as on spans
                attributes[REPORT_ATTRIBUTE] = entries
        except Exception:  # fail closed
            internal_error("logging.redaction")
            return "<redaction failed>", {}, None
        return body, attributes, name

    return redact
