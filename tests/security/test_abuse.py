"""The abuse detector: sliding windows per key, one signal per key per window, bounded memory."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from otel_distro.security import (
    ABUSE_COUNTER,
    WindowCounter,
    log_auth_violation,
)
from tests.security.conftest import Harness

pytestmark = pytest.mark.usefixtures("clean_logging_state")


class Clock:
    """A deterministic monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counter(threshold: int = 3, window: float = 60.0, max_keys: int = 100) -> tuple[
    WindowCounter, Clock
]:  # fmt: skip
    clock = Clock()
    return WindowCounter(threshold, window, max_keys, clock=clock), clock


def test_crossing_the_threshold_reports_once_per_window() -> None:
    """The threshold-th violation within the window reports; later ones in that window do not."""
    c, clock = counter(threshold=3)
    results = []
    for _ in range(10):
        results.append(c.record("1.2.3.4"))
        clock.now += 1
    crossings = [r for r in results if r is not None]
    assert [results.index(r) for r in crossings] == [2]
    assert crossings[0].count == 3 and crossings[0].threshold == 3


def test_a_key_still_over_after_the_window_reports_again() -> None:
    """A persistent abuser gives one signal per window, not one only."""
    c, clock = counter(threshold=2, window=10.0)
    reported = 0
    for _ in range(30):  # one violation a second for 30 seconds
        reported += c.record("k") is not None
        clock.now += 1
    assert reported == 3


def test_violations_spread_wider_than_the_window_never_report() -> None:
    """Violations further apart than the window never add up to the threshold."""
    c, clock = counter(threshold=3, window=10.0)
    for _ in range(20):
        assert c.record("slow") is None
        clock.now += 6


def test_keys_are_counted_separately() -> None:
    """Violations of different keys do not add up."""
    c, _ = counter(threshold=2)
    assert c.record("a") is None and c.record("b") is None
    assert c.record("a") is not None


def test_memory_is_bounded_by_max_keys() -> None:
    """However many distinct keys arrive, at most ``max_keys`` are kept."""
    c, clock = counter(threshold=5, max_keys=50)
    for n in range(10_000):
        c.record(f"10.0.{n // 256}.{n % 256}")
        clock.now += 0.001
    assert len(c) == 50 and c.evicted == 10_000 - 50


def test_rotating_keys_never_evict_a_key_over_its_threshold() -> None:
    """An abuser over its threshold stays tracked while an attacker rotates through keys."""
    c, clock = counter(threshold=3, window=60.0, max_keys=10)
    for _ in range(3):
        c.record("abuser")
    assert c.is_over("abuser")
    for n in range(100_000):
        c.record(f"rotating-{n}")
    clock.now += 1
    assert c.is_over("abuser") and len(c) <= 10


def test_when_every_key_is_over_new_keys_are_not_tracked() -> None:
    """With the table full of keys over their threshold, a new key is refused, none evicted."""
    c, _ = counter(threshold=1, max_keys=3)
    for key in ("a", "b", "c"):
        assert c.record(key) is not None
    assert c.record("d") is None
    assert c.untracked == 1 and all(c.is_over(k) for k in "abc") and len(c) == 3


def test_cooled_keys_make_room_again() -> None:
    """Once the window has passed, keys that were over can be evicted for new ones."""
    c, clock = counter(threshold=1, window=10.0, max_keys=2)
    c.record("a")
    c.record("b")
    clock.now += 11
    assert c.record("c") is not None and c.untracked == 0 and len(c) == 2


def test_threads_recording_one_key_report_exactly_once() -> None:
    """Many threads crossing the same key's threshold together give one signal."""
    c = WindowCounter(threshold=50, window_seconds=3600, max_keys=100)
    crossings: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(100):
            result = c.record("shared")
            if result is not None:
                with lock:
                    crossings.append(result)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(crossings) == 1


async def test_asyncio_tasks_recording_one_key_report_exactly_once() -> None:
    """Concurrent tasks on one loop crossing a key's threshold give one signal."""
    c = WindowCounter(threshold=20, window_seconds=3600, max_keys=100)

    async def work() -> int:
        found = 0
        for _ in range(20):
            found += c.record("task-key") is not None
            await asyncio.sleep(0)
        return found

    assert sum(await asyncio.gather(*(work() for _ in range(10)))) == 1


def test_abuse_signal_is_a_record_a_span_event_and_a_counter(
    security: Callable[..., Harness],
) -> None:
    """Crossing the user threshold gives one ``abuse_signal_detected`` on all three signals."""
    harness = security(OTEL_DISTRO_ABUSE_USER_THRESHOLD="3", OTEL_DISTRO_ABUSE_HOST_THRESHOLD="50")
    tracer = harness.tracer_provider.get_tracer("test")
    for _ in range(5):
        with tracer.start_as_current_span("login"):
            log_auth_violation(violation="bad_password", http_status=401, user_id="mallory")
    (record,) = harness.records("abuse_signal_detected")
    attrs = dict(record.attributes or {})
    assert attrs["otel_distro.security.abuse.key_kind"] == "user"
    assert attrs["user.id"] == "mallory" and attrs["otel_distro.security.abuse.count"] == 3
    events = [e for s in harness.spans() for e in s.events if e.name == "abuse_signal_detected"]
    assert len(events) == 1
    assert events[0].attributes is not None
    assert events[0].attributes["otel_distro.security.abuse.key_kind"] == "user"
    assert harness.points(ABUSE_COUNTER) == [
        (
            {
                "otel_distro.security.abuse.key_kind": "user",
                "otel_distro.security.violation": "bad_password",
            },
            1,
        )
    ]


def test_abuse_settings_are_read_and_checked() -> None:
    """The abuse variables have the documented defaults and a bad value falls back to them."""
    from otel_distro.config import load_settings

    defaults = load_settings({})
    assert (
        defaults.abuse_window_seconds,
        defaults.abuse_host_threshold,
        defaults.abuse_user_threshold,
        defaults.abuse_max_keys,
    ) == (60.0, 20, 10, 10000)
    bad = load_settings({"OTEL_DISTRO_ABUSE_HOST_THRESHOLD": "lots"})
    assert bad.abuse_host_threshold == 20
    assert any("OTEL_DISTRO_ABUSE_HOST_THRESHOLD='lots'" in p for p in bad.problems)


def test_reloaded_settings_apply_to_the_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``reset_settings()`` the detector uses the new thresholds."""
    from otel_distro.config import reset_settings
    from otel_distro.security import reset_security
    from otel_distro.security._state import get_state

    reset_security()
    monkeypatch.setenv("OTEL_DISTRO_ABUSE_HOST_THRESHOLD", "7")
    reset_settings()
    assert get_state().hosts.threshold == 7
    monkeypatch.setenv("OTEL_DISTRO_ABUSE_HOST_THRESHOLD", "9")
    reset_settings()
    assert get_state().hosts.threshold == 9


def test_the_process_reset_forgets_the_detector_and_pinned_state(
    security: Callable[..., Harness],
) -> None:
    """``otel_distro._state.reset()`` (the one reset of every singleton) forgets the abuse
    counts and a state pinned by ``reset_security``: the next event starts from zero."""
    from otel_distro import _state
    from otel_distro.security._state import get_state

    security(OTEL_DISTRO_ABUSE_USER_THRESHOLD="5")
    pinned = get_state()
    log_auth_violation(violation="bad_password", http_status=401, user_id="u-reset")
    assert len(pinned.users) == 1
    assert "security.state" in _state.registered()
    _state.reset()
    assert get_state() is not pinned and len(get_state().users) == 0
