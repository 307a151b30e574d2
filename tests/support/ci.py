"""Integration prerequisites: skipped locally, a failure under CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "require"]


def in_ci() -> bool:
    """True when ``CI`` is set to a true value (``.ci/run`` exports ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"required for this test under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """Skip the test when ``condition`` is false, or fail it when running under CI."""
    if not condition:
        _missing(reason)
