"""Fixtures for the engine tests: a default and a PII redactor, and random secrets."""

from __future__ import annotations

import pytest

from otel_distro.redaction import Redactor


@pytest.fixture
def plain() -> Redactor:
    """A redactor with default settings (PII off)."""
    return Redactor()


@pytest.fixture
def with_pii() -> Redactor:
    """A redactor with PII masking on."""
    return Redactor(pii=True)
