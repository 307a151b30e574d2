"""The security package's public surface is exactly what its ``__all__`` declares."""

from __future__ import annotations

import inspect

import otel_distro.security as security


def test_all_is_exact_and_documented() -> None:
    """Every public name is in ``__all__`` and every public callable has a docstring."""
    public = {
        name
        for name, value in vars(security).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(security.__all__)
    for name in security.__all__:
        value = getattr(security, name)
        if callable(value):
            assert inspect.getdoc(value), name


def test_event_and_metric_names_are_the_documented_ones() -> None:
    """The names dashboards and alerts depend on."""
    assert security.VIOLATION_EVENT == "security.violation"
    assert security.ABUSE_EVENT == "abuse_signal_detected"
    assert security.SPAN_ATTRIBUTE == "otel_distro.security.violation"
    assert security.VIOLATION_COUNTER == "otel_distro.security.violations"
    assert security.ABUSE_COUNTER == "otel_distro.security.abuse_signals"
    assert security.LOG_EVENTS == {
        "auth": "auth_violation",
        "tenant": "tenant_violation",
        "token": "token_anomaly",
    }
