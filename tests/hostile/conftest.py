"""Fixtures of the hostile tests: ``redactor``, a default engine per test."""

from __future__ import annotations

import pytest

from otel_distro.redaction import Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()
