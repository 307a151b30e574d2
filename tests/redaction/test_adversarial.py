"""Adversarial inputs: huge and pathological strings come back bounded, never raise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from otel_distro.redaction import REDACTED, TRUNCATED, RedactionReport, Redactor

MB = 1024 * 1024

INPUTS: dict[str, Callable[[], str]] = {
    "eyJ repeated": lambda: "eyJ" * (MB // 3),
    "key= repeated": lambda: "a=" * (MB // 2),
    "password= repeated": lambda: "password=" * (MB // 9),
    "unclosed quote": lambda: 'password="' + "x" * MB,
    "digits and spaces": lambda: "4 " * (MB // 2),
    "BEGIN repeated": lambda: "-----BEGIN " * (MB // 11),
    "scheme repeated": lambda: "a://" * (MB // 4),
    "nested brackets": lambda: "[" * (MB // 2) + "]" * (MB // 2),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_megabyte_input_is_cut_to_max_scan(name: str) -> None:
    """A 1 MB pathological string is scanned up to max_scan and then truncated."""
    result = Redactor().redact_value(INPUTS[name](), "body")
    assert isinstance(result, str) and len(result) <= 65536 + len(TRUNCATED)


def test_truncation_is_reported() -> None:
    """Cutting a value is recorded in the report as ``truncated``."""
    report = RedactionReport()
    Redactor(max_scan=256).redact_value("x" * 1000, "body", report=report)
    assert report.entries == ("truncated:body",)


def test_unclosed_quoted_secret_fails_closed() -> None:
    """A quoted sensitive value without its closing quote is redacted to the end."""
    assert Redactor().redact_text('password="hunter2 and more') == f'password="{REDACTED}'
