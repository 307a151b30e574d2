"""The process-wide redactor: built once from the settings, reset for tests."""

from __future__ import annotations

import threading

from ._engine import Redactor, Rule

__all__ = ["add_rule", "get_redactor", "reset_redactor"]

_lock = threading.Lock()
_redactor: Redactor | None = None
_rules: list[Rule] = []


def get_redactor() -> Redactor:
    """The process redactor, built on first use from ``get_settings()`` and added rules."""
    global _redactor
    redactor = _redactor
    if redactor is not None:
        return redactor
    with _lock:
        if _redactor is None:
            from otel_distro.config import get_settings

            _redactor = Redactor.from_settings(get_settings(), rules=tuple(_rules))
        return _redactor


def add_rule(rule: Rule) -> None:
    """Register a Python rule for every channel: ``rule(key, text) -> new text | None``.

    It runs on each string after the built-in rules; its ``__name__`` is the
    rule name in reports.  The process redactor is rebuilt on next use.
    """
    global _redactor
    with _lock:
        _rules.append(rule)
        _redactor = None


def reset_redactor() -> None:
    """Forget the process redactor and the added rules (tests, or after a settings change)."""
    global _redactor
    with _lock:
        _redactor = None
        _rules.clear()
