"""Process-wide state lives in ``otel_distro._state`` and one ``reset()`` forgets all of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.http import _log_exporter

from otel_distro import _state
from otel_distro._report import internal_error, internal_error_counts, once_reported
from otel_distro.config import load_settings
from otel_distro.exporters._otlp_logs import use_fast_log_encoder
from otel_distro.processors.access_log import AccessLogSpanProcessor, is_active


@pytest.fixture
def own_names() -> Iterator[list[str]]:
    """Names a test registers; discarded afterwards so no other test resets them."""
    names: list[str] = []
    yield names
    for name in names:
        _state.discard(name)


def test_a_slot_starts_with_its_initial_value(own_names: list[str]) -> None:
    """``slot(name, initial)`` holds ``initial()`` until it is changed."""
    own_names.append("test.counter")
    counter = _state.slot("test.counter", int)
    assert counter.value == 0
    counter.value = 5
    assert counter.value == 5


def test_reset_gives_a_slot_a_fresh_value(own_names: list[str]) -> None:
    """After ``reset()`` a mutable slot holds a new object, not the old one emptied."""
    own_names.append("test.items")
    items = _state.slot("test.items", list[str])
    before = items.value
    before.append("x")
    _state.reset()
    assert items.value == [] and items.value is not before and before == ["x"]


def test_reset_runs_every_hook_latest_first(own_names: list[str]) -> None:
    """Hooks run in reverse registration order (later state may depend on earlier)."""
    calls: list[str] = []
    for name in ("test.first", "test.second"):
        own_names.append(name)
        _state.on_reset(name, lambda name=name: calls.append(name))
    _state.reset()
    assert calls == ["test.second", "test.first"]


def test_registering_a_name_again_replaces_its_hook(own_names: list[str]) -> None:
    """A module imported twice (a reload) does not reset its state twice."""
    calls: list[str] = []
    own_names.append("test.reloaded")
    _state.on_reset("test.reloaded", lambda: calls.append("old"))
    _state.on_reset("test.reloaded", lambda: calls.append("new"))
    _state.reset()
    assert calls == ["new"]
    assert _state.registered().count("test.reloaded") == 1


def test_a_failing_hook_does_not_stop_the_others(own_names: list[str]) -> None:
    """Every hook runs; the first failure is raised once all have run."""
    calls: list[str] = []

    def failing() -> None:
        raise RuntimeError("hook failed")

    own_names.extend(["test.before", "test.failing"])
    _state.on_reset("test.before", lambda: calls.append("before"))
    _state.on_reset("test.failing", failing)
    with pytest.raises(RuntimeError, match="hook failed"):
        _state.reset()
    assert calls == ["before"]


def test_discarded_state_is_no_longer_reset(own_names: list[str]) -> None:
    """``discard(name)`` removes a hook; discarding an unknown name does nothing."""
    calls: list[str] = []
    own_names.append("test.discarded")
    _state.on_reset("test.discarded", lambda: calls.append("reset"))
    _state.discard("test.discarded")
    _state.discard("test.never-registered")
    _state.reset()
    assert calls == [] and "test.discarded" not in _state.registered()


def test_the_distros_singletons_are_registered() -> None:
    """The package's own process state is named in the registry."""
    import otel_distro.logging  # noqa: F401 - registers its reset on import

    expected = {
        "report.messages",
        "report.internal_errors",
        "redaction.pipeline_errors",
        "processors.access_log.active",
        "exporters.otlp_logs.encoder",
        "exporters.otlp_logs.caches",
        "logging",
    }
    assert expected <= set(_state.registered())


def test_reset_turns_the_access_log_flag_off() -> None:
    """An enabled access-log processor marks the access log active until the reset."""
    AccessLogSpanProcessor(load_settings({"OTEL_DISTRO_ACCESS_LOG": "true"}))
    assert is_active()
    _state.reset()
    assert not is_active()


def test_a_disabled_access_log_processor_leaves_the_flag_off() -> None:
    """Only an enabled processor marks the access log active."""
    AccessLogSpanProcessor(load_settings({"OTEL_DISTRO_ACCESS_LOG": "false"}))
    assert not is_active()


@pytest.mark.usefixtures("production_mode")
def test_reset_forgets_reports_and_internal_error_counts() -> None:
    """Messages said once may be said again and the error counts start from zero."""
    assert once_reported("a message")
    assert not once_reported("a message")
    try:
        raise ValueError("x")
    except ValueError:
        internal_error("test.place")
    assert internal_error_counts() == {"test.place": 1}
    _state.reset()
    assert once_reported("a message")
    assert internal_error_counts() == {}


def test_reset_puts_the_stock_log_encoder_back() -> None:
    """The OTLP/HTTP exporter's patched encoder is restored by the reset."""
    stock = _log_exporter.encode_logs
    assert use_fast_log_encoder()
    assert _log_exporter.encode_logs is not stock
    _state.reset()
    assert _log_exporter.encode_logs is stock
