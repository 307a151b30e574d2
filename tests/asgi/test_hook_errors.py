"""The server request hook: its own failures are internal errors (counted in production,
raised in the test suite); its derived state is process state that ``_state.reset`` forgets."""

from __future__ import annotations

from typing import Any

import pytest

from otel_distro import _state, asgi
from otel_distro._report import internal_error_counts


class _Boom(RuntimeError):
    pass


def _fail(*_: Any) -> None:
    raise _Boom


@pytest.mark.usefixtures("production_mode")
def test_a_failure_inside_the_hook_is_counted_and_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In production a failure of the distro's hook is counted by place, never raised."""
    monkeypatch.setattr(asgi, "begin_request", _fail)
    before = internal_error_counts().get("asgi.server_request_hook", 0)
    asgi.server_request_hook(object(), {"type": "http", "headers": []})  # type: ignore[arg-type]
    assert internal_error_counts()["asgi.server_request_hook"] == before + 1


def test_a_failure_inside_the_hook_fails_the_test_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    """With internal errors raised (the suite's setting) the hook's own bug is visible."""
    monkeypatch.setattr(asgi, "begin_request", _fail)
    with pytest.raises(_Boom):
        asgi.server_request_hook(object(), {"type": "http", "headers": []})  # type: ignore[arg-type]


def test_the_hook_state_is_forgotten_by_the_process_reset() -> None:
    """The settings-derived hook state lives in a named slot, cleared by ``_state.reset``."""
    asgi._state()
    assert asgi._hook_state.value is not None and "asgi.hook_state" in _state.registered()
    _state.reset()
    assert asgi._hook_state.value is None
