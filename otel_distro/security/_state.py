"""Process-wide security state: settings-derived values, the abuse counters, the instruments."""

from __future__ import annotations

import threading

from opentelemetry.metrics import MeterProvider

from otel_distro._state import slot
from otel_distro.config import Network, Settings, get_settings
from otel_distro.security._abuse import WindowCounter
from otel_distro.security._metrics import Instruments

__all__ = ["SecurityState", "get_state", "reset_state"]


class SecurityState:
    """What every security event needs, derived once from the settings."""

    def __init__(self, settings: Settings, meter_provider: MeterProvider | None = None) -> None:
        self.settings = settings
        self.auto: bool = bool(settings.security_auto)
        self.trusted_proxies: tuple[Network, ...] = tuple(settings.trusted_proxies)
        window = float(settings.abuse_window_seconds)
        self.hosts = WindowCounter(settings.abuse_host_threshold, window, settings.abuse_max_keys)
        self.users = WindowCounter(settings.abuse_user_threshold, window, settings.abuse_max_keys)
        self._meter_provider = meter_provider
        self._instruments: Instruments | None = None
        self._lock = threading.Lock()

    @property
    def instruments(self) -> Instruments:
        """The counters, created on first use (after the SDK set the global provider)."""
        instruments = self._instruments
        if instruments is None:
            with self._lock:
                if self._instruments is None:
                    self._instruments = Instruments(self._meter_provider)
                instruments = self._instruments
        return instruments


class _Current:
    """The process-wide state and whether it was pinned by :func:`reset_state`."""

    __slots__ = ("pinned", "state")

    def __init__(self) -> None:
        self.state: SecurityState | None = None
        self.pinned = False  # built by reset_state(settings): kept whatever get_settings() says


_current = slot("security.state", _Current)
_state_lock = threading.Lock()


def _fresh(current: _Current, settings: Settings) -> bool:
    state = current.state
    return state is not None and (current.pinned or state.settings is settings)


def get_state() -> SecurityState:
    """The process-wide state, built from :func:`~otel_distro.config.get_settings`.

    Rebuilt when the settings were reloaded (``reset_settings``) or after
    :func:`otel_distro._state.reset`, unless it was built from explicit settings by
    :func:`reset_state`.
    """
    current = _current.value
    state = current.state
    if state is not None and _fresh(current, get_settings()):
        return state
    with _state_lock:
        current = _current.value
        settings = get_settings()
        if not _fresh(current, settings):
            current.state, current.pinned = SecurityState(settings), False
        state = current.state
    assert state is not None
    return state


def reset_state(
    settings: Settings | None = None, meter_provider: MeterProvider | None = None
) -> None:
    """Forget the state (tests, or after changing settings); optionally build it now from
    ``settings`` (and ``meter_provider``), kept until the next call."""
    with _state_lock:
        current = _current.value
        if settings is None:
            current.state, current.pinned = None, False
        else:
            current.state, current.pinned = SecurityState(settings, meter_provider), True
