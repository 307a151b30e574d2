"""The internal-error guard: our failures counted and said once, or raised in our tests."""

from __future__ import annotations

import secrets

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_distro._report import (
    RAISE_VARIABLE,
    guarded,
    internal_error,
    internal_error_counts,
    observe_internal_errors,
)
from otel_distro._signal_redaction import observe_redactions
from otel_distro.redaction import Redactor


class Failure(Exception):
    """An exception only these tests raise."""


def fail(where: str, message: str = "failed") -> None:
    try:
        raise Failure(message)
    except Failure:
        internal_error(where)


def points(reader: InMemoryMetricReader, name: str) -> dict[str, int]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, int] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[str(dict(point.attributes or {})["where"])] = int(point.value)
    return found


@pytest.mark.usefixtures("production_mode")
def test_in_production_the_error_is_swallowed_and_counted_by_place() -> None:
    """Each call counts under its place; nothing is raised."""
    fail("test.a")
    fail("test.a")
    fail("test.b")
    assert internal_error_counts() == {"test.a": 2, "test.b": 1}


@pytest.mark.usefixtures("production_mode")
def test_guarded_swallows_and_counts_a_failing_block() -> None:
    """``with guarded(place):`` ends the block at the failure and counts it."""
    reached = []
    with guarded("test.block"):
        reached.append("before")
        raise Failure("inside")
    assert reached == ["before"]
    assert internal_error_counts() == {"test.block": 1}


@pytest.mark.usefixtures("production_mode")
def test_guarded_leaves_a_succeeding_block_alone() -> None:
    """A block that does not fail is not counted."""
    with guarded("test.fine"):
        pass
    assert internal_error_counts() == {}


@pytest.mark.usefixtures("production_mode")
def test_a_place_is_reported_once_without_the_exception_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One stderr line per place naming the place and the exception type, never its message."""
    planted = secrets.token_urlsafe(24)
    fail("test.reported", f"password={planted}")
    fail("test.reported", f"password={planted}")
    fail("test.reported", "another message")
    lines = [line for line in capsys.readouterr().err.splitlines() if "test.reported" in line]
    assert len(lines) == 1
    assert "Failure" in lines[0] and lines[0].startswith("otel-distro: ")
    assert planted not in lines[0] and "another message" not in lines[0]


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on"])
def test_the_variable_re_raises_the_exception_being_handled(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """With ``OTEL_DISTRO_RAISE_INTERNAL_ERRORS`` on, the very exception propagates (and counts)."""
    monkeypatch.setenv(RAISE_VARIABLE, value)
    raised = Failure("ours")
    with pytest.raises(Failure) as caught:
        try:
            raise raised
        except Failure:
            internal_error("test.raised")
    assert caught.value is raised
    assert internal_error_counts() == {"test.raised": 1}


def test_guarded_re_raises_under_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """``guarded`` follows the same switch."""
    monkeypatch.setenv(RAISE_VARIABLE, "1")
    with pytest.raises(Failure), guarded("test.guarded"):
        raise Failure("ours")


@pytest.mark.parametrize("value", ["0", "false", "off", "", "maybe"])
def test_other_values_of_the_variable_swallow(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Anything but a true value keeps production behaviour."""
    monkeypatch.setenv(RAISE_VARIABLE, value)
    fail("test.swallowed")
    assert internal_error_counts() == {"test.swallowed": 1}


def test_outside_an_except_block_it_only_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Called with no exception being handled there is nothing to re-raise."""
    monkeypatch.setenv(RAISE_VARIABLE, "1")
    internal_error("test.no_exception")
    assert internal_error_counts() == {"test.no_exception": 1}


def test_the_test_suite_runs_with_internal_errors_raised() -> None:
    """Our own tests see our bugs: the suite turns the variable on."""
    with pytest.raises(Failure):
        fail("test.suite")


@pytest.mark.usefixtures("production_mode")
def test_the_counts_are_an_observable_counter_by_place() -> None:
    """``otel_distro.internal_errors`` exports each place's count as ``where``."""
    reader = InMemoryMetricReader()
    observe_internal_errors(MeterProvider(metric_readers=[reader]).get_meter("otel_distro"))
    fail("test.metric")
    fail("test.metric")
    fail("test.other")
    assert points(reader, "otel_distro.internal_errors") == {"test.metric": 2, "test.other": 1}


@pytest.mark.usefixtures("production_mode")
def test_the_counter_is_created_beside_the_redactions_counter() -> None:
    """The distro's own metrics (set up by the configurator) include the internal errors."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    observe_redactions(provider.get_meter("otel_distro"), Redactor())
    fail("test.beside")
    assert points(reader, "otel_distro.internal_errors") == {"test.beside": 1}
