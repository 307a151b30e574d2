"""OTEL_PROPAGATORS is repaired at interpreter start instead of stopping the launch."""

from __future__ import annotations

import pytest

from otel_distro.config._startup_guard import check


@pytest.mark.parametrize(
    ("value", "repaired"),
    [
        ("bogus", "tracecontext,baggage"),
        ("tracecontext,bogus", "tracecontext"),
        ("tracecontext,", "tracecontext"),
        ("TraceContext,baggage", "baggage"),
        ("", "tracecontext,baggage"),
    ],
)
def test_unknown_names_are_dropped_with_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, repaired: str
) -> None:
    monkeypatch.setenv("OTEL_PROPAGATORS", value)
    check()
    import os

    assert os.environ["OTEL_PROPAGATORS"] == repaired
    err = capsys.readouterr().err
    assert err.count(f"OTEL_PROPAGATORS={value!r}") == 1
    assert "tracecontext" in err


@pytest.mark.parametrize("value", ["tracecontext,baggage", "none", "NONE", "baggage"])
def test_valid_values_are_left_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("OTEL_PROPAGATORS", value)
    check()
    import os

    assert os.environ["OTEL_PROPAGATORS"] == value
    assert capsys.readouterr().err == ""
