"""Every process-wide singleton of the distro, and the one :func:`reset` that forgets them.

A module keeps its process state in a :class:`Slot` made with :func:`slot`
(``_active = slot("processors.access_log.active", lambda: False)``, then
``_active.value``) instead of a module global rebound with ``global``.  State
that needs more than a fresh value on reset (a patched function to put back, a
worker to flush) registers a hook with :func:`on_reset`.  Either way the state
is named here, so :func:`registered` lists everything the process holds and
:func:`reset` (tests, or a reconfiguration) returns all of it to the start.

This module imports nothing of the distro: any module may use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Slot", "discard", "on_reset", "registered", "reset", "slot"]

T = TypeVar("T")
Hook = Callable[[], None]

_lock = threading.Lock()
_hooks: dict[str, Hook] = {}


class Slot(Generic[T]):
    """One named piece of process state: ``value``, and ``reset()`` to a fresh initial value."""

    __slots__ = ("_initial", "name", "value")

    def __init__(self, name: str, initial: Callable[[], T]) -> None:
        self.name = name
        self._initial = initial
        self.value: T = initial()

    def reset(self) -> None:
        """Replace the value by a fresh initial one."""
        self.value = self._initial()

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


def slot(name: str, initial: Callable[[], T]) -> Slot[T]:
    """A new :class:`Slot` holding ``initial()``, reset by :func:`reset`."""
    state = Slot(name, initial)
    on_reset(name, state.reset)
    return state


def on_reset(name: str, hook: Hook) -> Hook:
    """Run ``hook`` on every :func:`reset`; a second hook under the same name replaces the first."""
    with _lock:
        _hooks.pop(name, None)
        _hooks[name] = hook
    return hook


def discard(name: str) -> None:
    """Stop resetting the state registered under ``name`` (nothing if there is none)."""
    with _lock:
        _hooks.pop(name, None)


def registered() -> tuple[str, ...]:
    """The names of all registered state, in registration order."""
    with _lock:
        return tuple(_hooks)


def reset() -> None:
    """Return every registered piece of state to its start, the latest registered first.

    Every hook runs even if one fails; the first failure is raised afterwards.
    """
    with _lock:
        hooks = list(_hooks.values())
    failure: Exception | None = None
    for hook in reversed(hooks):
        try:
            hook()
        except Exception as error:
            failure = failure or error
    if failure is not None:
        raise failure
