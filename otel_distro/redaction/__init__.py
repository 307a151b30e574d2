"""One redaction engine for every channel: spans, logs, metrics, headers, baggage.

No OpenTelemetry imports here: pure functions over values and mappings.  The
OpenTelemetry side lives in :mod:`otel_distro.processors.redaction` and
:mod:`otel_distro.exporters.redacting`.
"""

from __future__ import annotations

from ._engine import TRUNCATED, Redactor, Rule, TextCarry
from ._keys import SENSITIVE_HEADERS, SENSITIVE_QUERY_KEYS
from ._marker import REDACTED
from ._report import RedactionReport
from ._state import add_rule, get_redactor, reset_redactor

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_KEYS",
    "TRUNCATED",
    "RedactionReport",
    "Redactor",
    "Rule",
    "TextCarry",
    "add_rule",
    "get_redactor",
    "reset_redactor",
]
