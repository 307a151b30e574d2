"""Bounded shutdown: the final export never holds the process longer than the timeout.

The SDK flushes spans, logs and metrics from ``atexit`` hooks with no overall
bound: with a collector that is down, refusing or black-holing connections each
signal may wait its full OTLP timeout (and retries), 15 s or more in total.
:func:`install_bounded_shutdown` replaces those hooks by one that shuts the
three providers down in a helper thread and waits at most
``OTEL_DISTRO_SHUTDOWN_TIMEOUT_SECONDS`` (default 5) for it; whatever could not
be exported by then (still queued, or in an export that has not returned) is
counted and said in one line, and the process goes on exiting.

Signals keep their meaning.  On SIGTERM with the default disposition (servers
such as uvicorn re-raise SIGTERM after their graceful shutdown) the handler of
:func:`install_sigterm_flush` runs the same bounded shutdown and then lets the
process die by SIGTERM, exactly as it would without the distro: the exit status
is the app's (``-15`` from ``subprocess``, ``143`` in a shell), and a SIGTERM
during start-up (while the app is still being imported) ends the process the
same way, never with an exception escaping interpreter start-up.  While the
distro and the instrumentors load, :func:`begin_startup_signals` gives SIGINT
the same treatment (the process dies by SIGINT, as an uncaught
``KeyboardInterrupt`` would make it).
An application's own SIGTERM handler is never replaced.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import FrameType

from otel_distro._report import internal_error
from otel_distro._state import slot

__all__ = [
    "DEFAULT_TIMEOUT",
    "ShutdownResult",
    "begin_startup_signals",
    "end_startup_signals",
    "install_bounded_shutdown",
    "install_sigterm_flush",
    "shutdown_telemetry",
]

DEFAULT_TIMEOUT = 5.0
TIMEOUT_VARIABLE = "OTEL_DISTRO_SHUTDOWN_TIMEOUT_SECONDS"

_timeout = slot("shutdown.timeout", lambda: DEFAULT_TIMEOUT)
_done = slot("shutdown.done", threading.Event)
_atexit_installed = slot("shutdown.atexit_installed", lambda: False)


@dataclass(frozen=True)
class ShutdownResult:
    """What :func:`shutdown_telemetry` did: whether it finished, and what was left."""

    finished: bool
    seconds: float
    unflushed: dict[str, int] = field(default_factory=dict)


def _providers() -> list[object]:
    from opentelemetry import metrics, trace
    from opentelemetry._logs import get_logger_provider

    found: list[object] = []
    for provider in (
        trace.get_tracer_provider(),
        get_logger_provider(),
        metrics.get_meter_provider(),
    ):
        if callable(getattr(provider, "shutdown", None)) and provider not in found:
            found.append(provider)
    return found


def _forget_atexit(provider: object) -> None:
    """Unregister the SDK's own exit hook of ``provider`` (ours replaces it)."""
    for attribute in ("_atexit_handler", "_at_exit_handler"):
        handler = getattr(provider, attribute, None)
        if handler is not None:
            atexit.unregister(handler)
            setattr(provider, attribute, None)


def _queued(providers: Sequence[object]) -> dict[str, int]:
    """Items still waiting in the batch processors' queues, by signal."""
    counts: dict[str, int] = {}
    pairs: list[tuple[str, Iterable[object]]] = []
    for provider in providers:
        active = getattr(provider, "_active_span_processor", None)
        multi = getattr(provider, "_multi_log_record_processor", None)
        pairs.append(("spans", getattr(active, "_span_processors", ())))
        pairs.append(("logs", getattr(multi, "_log_record_processors", ())))
    for signal_name, processors in pairs:
        for processor in processors:
            queue = getattr(getattr(processor, "_batch_processor", None), "_queue", None)
            if queue is not None:
                counts[signal_name] = counts.get(signal_name, 0) + len(queue)
    return counts


def _shutdown_all(providers: list[object], timeout: float) -> None:
    for provider in providers:
        if getattr(provider, "_shutdown", False) is True:
            continue  # the app shut it down itself (a second call only warns)
        try:
            shutdown = getattr(provider, "shutdown")  # noqa: B009 - any SDK provider's
            if "metrics" in type(provider).__module__:
                shutdown(timeout_millis=timeout * 1000)
            else:
                shutdown()
        except Exception:
            internal_error("shutdown.provider")


def shutdown_telemetry(
    timeout: float | None = None, providers: Sequence[object] | None = None
) -> ShutdownResult:
    """Flush and shut down the SDK providers, waiting at most ``timeout`` seconds.

    ``providers`` defaults to the global tracer, logger and meter providers.
    Runs once per process (later calls return at once).  When something could
    not be exported, one line says how much, and whether the timeout cut it.
    """
    from otel_distro.exporters._delivery import (
        abandon_retries,
        describe,
        dropped_counts,
        endpoint_names,
        inflight_counts,
        say,
    )

    limit = _timeout.value if timeout is None else timeout
    started = time.monotonic()
    if _done.value.is_set():
        return ShutdownResult(True, 0.0)
    _done.value.set()
    providers = list(_providers() if providers is None else providers)
    for provider in providers:
        _forget_atexit(provider)
    dropped_before = dropped_counts()
    abandon_retries()
    worker = threading.Thread(
        target=_shutdown_all,
        args=(providers, limit),
        name="otel-distro-shutdown",
        daemon=True,
    )
    worker.start()
    worker.join(limit)
    seconds = time.monotonic() - started
    lost: dict[str, int] = {}
    for counts in (_queued(providers), inflight_counts()):
        for name, count in counts.items():
            lost[name] = lost.get(name, 0) + count
    for name, count in dropped_counts().items():
        lost[name] = lost.get(name, 0) + count - dropped_before.get(name, 0)
    lost = {name: count for name, count in lost.items() if count > 0}
    finished = not worker.is_alive()
    if lost or not finished:
        where = endpoint_names() or "the exporters"
        waited = f"within {limit:g}s ({TIMEOUT_VARIABLE})" if not finished else "at shutdown"
        if lost:
            lines = f"{describe(lost)} could not be flushed to {where} {waited}; they are lost"
            say(f"shutdown: {lines}")
        else:
            say(f"shutdown: the final export to {where} did not finish {waited}")
    return ShutdownResult(finished, seconds, lost)


def _at_exit() -> None:
    try:
        shutdown_telemetry()
    except Exception:
        internal_error("shutdown.at_exit")


def install_bounded_shutdown(timeout: float = DEFAULT_TIMEOUT) -> None:
    """Replace the providers' exit hooks by one bounded by ``timeout`` seconds.

    Call after the providers were created (their hooks are registered then).
    """
    _timeout.value = timeout
    for provider in _providers():
        _forget_atexit(provider)
    if not _atexit_installed.value:
        _atexit_installed.value = True
        atexit.register(_at_exit)


# --- signals ----------------------------------------------------------------------


def _die_by(signum: int) -> None:
    """End the process by ``signum`` with its default disposition (as without us)."""
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)
    os._exit(128 + signum)  # only if the signal did not end the process


def _flush_then_die(signum: int, frame: FrameType | None) -> None:
    try:
        shutdown_telemetry()
    except Exception:
        internal_error("shutdown.sigterm")
    _die_by(signum)


def install_sigterm_flush() -> bool:
    """Install the SIGTERM handler if SIGTERM still has its default; True when installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
            return False
        signal.signal(signal.SIGTERM, _flush_then_die)
    except (ValueError, OSError):
        return False
    return True


def _in_site_import(frame: FrameType | None) -> bool:
    """Whether the interrupted code runs inside interpreter start-up (``site``)."""
    while frame is not None:
        name = frame.f_code.co_filename
        if name.endswith(("sitecustomize.py", f"{os.sep}site.py")) or name == "<frozen site>":
            return True
        frame = frame.f_back
    return False


def _die_now(signum: int, frame: FrameType | None) -> None:
    """Inside interpreter start-up: end by the signal; anywhere else: Python's default."""
    if _in_site_import(frame):
        _die_by(signum)
    signal.default_int_handler(signum, frame)


_startup_sigint = slot("shutdown.startup_sigint", lambda: False)


def begin_startup_signals() -> None:
    """From now until :func:`end_startup_signals`, SIGINT ends the process by SIGINT.

    An exception raised by a signal handler during interpreter start-up (the
    ``sitecustomize`` of ``opentelemetry-instrument``, where the distro, the
    configurator and the instrumentors load) is a fatal error; ending the
    process by the signal is what it would do without the distro.  Only the
    default SIGINT handler is replaced; idempotent.
    """
    if _startup_sigint.value or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _die_now)
            _startup_sigint.value = True
    except (ValueError, OSError):
        return


def end_startup_signals() -> None:
    """Give SIGINT back its default handler (the ``opentelemetry_post_instrument`` hook)."""
    if not _startup_sigint.value:
        return
    _startup_sigint.value = False
    try:
        if signal.getsignal(signal.SIGINT) is _die_now:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except (ValueError, OSError):
        return
