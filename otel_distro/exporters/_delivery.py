"""Delivery accounting: outages said once (then at most once a minute), drops counted.

Every exporter behind a batch processor or a metric reader is wrapped in a
counting wrapper (:mod:`otel_distro.exporters._tracked`).  The wrappers know, per endpoint,
whether the last export succeeded: the first failure starts an *outage* and
prints one line (which endpoint, why, and that telemetry is buffered up to the
queue bounds and dropped beyond them); while it lasts, at most one line per
:data:`REPORT_INTERVAL` with counts; the first success after it prints one line
saying it recovered and what was lost.  The SDK's own per-batch warnings
(``Transient error ... retrying``, ``Failed to export ...``, ``Queue full ...``)
are filtered out of the exporters' loggers (:mod:`otel_distro.exporters._quiet`):
they are what these lines count.

Items lost (export failed, or the queue was full) are counted by signal and
exported as the ``otel_distro.export.dropped`` counter.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from otel_distro._report import internal_error
from otel_distro._state import slot

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Meter, Observation

__all__ = [
    "REPORT_INTERVAL",
    "Endpoint",
    "abandon_retries",
    "announce_unreachable",
    "dropped_counts",
    "endpoint_names",
    "endpoint_of",
    "inflight_counts",
    "observe_dropped",
    "say",
]

#: Seconds between two "still failing" lines of one outage.
REPORT_INTERVAL = 60.0
SIGNALS = ("spans", "logs", "metrics")
_UNITS = {"spans": "spans", "logs": "log records", "metrics": "metric points"}


def say(message: str) -> None:
    """Print one ``otel-distro:`` line on stderr (every time; never raises)."""
    try:
        print(f"otel-distro: {message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: S110 - a closed stderr must not break the app
        pass


def describe(items: dict[str, int]) -> str:
    """``3 spans, 1 log record`` from counts by signal (only the non-zero ones)."""
    parts = []
    for signal in SIGNALS:
        count = items.get(signal, 0)
        if count:
            unit = _UNITS[signal]
            parts.append(f"{count} {unit if count != 1 else unit[:-1]}")
    return ", ".join(parts) or "nothing"


def reason_of(error: object) -> str:
    """A short, data-free reason for a failed export."""
    text = str(error)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered or "deadline" in lowered:
        return "no answer in time"
    if "unavailable" in lowered:
        return "unavailable"
    if "name or service not known" in lowered or "nodename" in lowered:
        return "unknown host"
    if isinstance(error, BaseException):
        return type(error).__name__
    return text[:80] or "failed"


@dataclass
class Endpoint:
    """Delivery state of one endpoint (shared by the signals that export to it)."""

    name: str
    clock: Callable[[], float] = time.monotonic
    interval: float = REPORT_INTERVAL
    outage_since: float | None = None
    announced: bool = False
    last_line: float = 0.0
    reason: str = "failed"
    failed: dict[str, int] = field(default_factory=dict)  # in this outage
    failed_since_line: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def down_at_startup(self, reason: str) -> bool:
        """The endpoint did not answer at startup; True unless its outage was already said."""
        with self.lock:
            if self.announced:
                return False
            self.outage_since = self.clock()
            self.announced = True
            self.last_line = self.clock()
            self.reason = reason
            return True

    def failure(self, signal: str, items: int) -> None:
        """One export of ``items`` failed."""
        _dropped.value[signal] = _dropped.value.get(signal, 0) + items
        now = self.clock()
        with self.lock:
            self.failed[signal] = self.failed.get(signal, 0) + items
            self.failed_since_line[signal] = self.failed_since_line.get(signal, 0) + items
            if self.outage_since is None:
                self.outage_since = now
            if not self.announced:
                self.announced = True
                self.last_line = now
                self.failed_since_line = {}
                line = (
                    f"cannot export to {self.name} ({self.reason}); telemetry is buffered in "
                    "memory up to the queue bounds (OTEL_BSP_MAX_QUEUE_SIZE, "
                    "OTEL_BLRP_MAX_QUEUE_SIZE) and dropped beyond them; retrying, "
                    f"{describe({signal: items})} lost so far"
                )
            elif now - self.last_line >= self.interval:
                lost = describe(self.failed_since_line)
                minutes = now - self.last_line
                self.last_line = now
                self.failed_since_line = {}
                line = (
                    f"still cannot export to {self.name} ({self.reason}) after "
                    f"{now - self.outage_since:.0f}s: {lost} lost in the last {minutes:.0f}s"
                )
            else:
                return
        say(line)

    def success(self) -> None:
        """One export succeeded: ends an outage (one line)."""
        if self.outage_since is None:
            return
        with self.lock:
            if self.outage_since is None:
                return
            took = self.clock() - self.outage_since
            lost = describe(self.failed)
            self.outage_since = None
            self.announced = False
            self.failed = {}
            self.failed_since_line = {}
        say(f"export to {self.name} recovered after {took:.1f}s ({lost} lost during the outage)")


_endpoints = slot("exporters.delivery.endpoints", dict[str, Endpoint])
_dropped = slot("exporters.delivery.dropped", dict[str, int])
_inflight = slot("exporters.delivery.inflight", dict[str, int])
_last_reason = slot("exporters.delivery.last_reason", dict[str, str])
_trackers = slot("exporters.delivery.trackers", list[Any])  # of _tracked._Tracker
_inflight_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child starts with fresh locks and no exports in flight (its threads are gone)."""
    global _inflight_lock
    _inflight_lock = threading.Lock()
    _inflight.value = {}
    for state in _endpoints.value.values():
        state.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def endpoint_of(exporter: object) -> str:
    """``scheme://host:port`` the exporter sends to, else its type name."""
    inner = exporter
    for _ in range(5):  # through our wrappers to the real exporter
        if getattr(inner, "_endpoint", None) or getattr(inner, "_exporter", None) is None:
            break
        inner = inner._exporter  # type: ignore[attr-defined]
    raw = getattr(inner, "_endpoint", None)
    if isinstance(raw, str) and raw:
        parts = urlsplit(raw if "://" in raw else f"http://{raw}")
        if parts.hostname:
            port = f":{parts.port}" if parts.port else ""
            return f"{parts.scheme}://{parts.hostname}{port}"
    return f"the {type(inner).__name__}"


def endpoint(name: str) -> Endpoint:
    """The shared state for endpoint ``name``."""
    found = _endpoints.value.get(name)
    if found is None:
        found = _endpoints.value.setdefault(name, Endpoint(name))
    return found


def endpoint_names() -> str:
    """The endpoints exported to so far, comma-separated."""
    return ", ".join(sorted(_endpoints.value))


def dropped_counts() -> dict[str, int]:
    """Items lost so far (export failed or queue full), by signal."""
    return dict(_dropped.value)


def inflight_counts() -> dict[str, int]:
    """Items handed to an exporter whose export has not returned yet, by signal."""
    with _inflight_lock:
        return {k: v for k, v in _inflight.value.items() if v}


def _innermost(exporter: object) -> object:
    for _ in range(5):
        inner = getattr(exporter, "_exporter", None)
        if inner is None:
            break
        exporter = inner
    return exporter


def abandon_retries() -> None:
    """Stop the retry waits of exporters whose endpoint is failing (at shutdown).

    Their remaining batches get one attempt each instead of backing off until
    the OTLP timeout; exporters of healthy endpoints are left alone.
    """
    for tracker in list(_trackers.value):
        if tracker.state.outage_since is None:
            continue
        inner = _innermost(tracker.exporter)
        for event in (
            getattr(getattr(inner, "_client", None), "_shutdown_event", None),
            getattr(inner, "_shutdown_in_progress", None),
        ):
            if isinstance(event, threading.Event):
                event.set()


def _add_inflight(signal: str, items: int) -> None:
    with _inflight_lock:
        _inflight.value[signal] = _inflight.value.get(signal, 0) + items


def _probe(name: str, timeout: float = 0.3) -> str | None:
    """None when a TCP connection to endpoint ``name`` succeeds, else why not."""
    parts = urlsplit(name)
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return "no answer"
    except (OSError, ValueError) as error:
        return reason_of(error)


def _queue_bounds() -> str:
    spans = os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE", "").strip() or "2048"
    logs = os.environ.get("OTEL_BLRP_MAX_QUEUE_SIZE", "").strip() or "2048"
    return f"{spans} spans and {logs} log records"


def announce_unreachable(background: bool = True) -> None:
    """One line per OTLP endpoint that does not accept a connection at startup.

    The probes run in a daemon thread (a slow DNS lookup never delays the app's
    start); an endpoint whose outage was already said is skipped.
    """
    names = sorted(name for name in _endpoints.value if "://" in name)
    if not names:
        return
    if background:
        threading.Thread(
            target=_announce, args=(names,), name="otel-distro-probe", daemon=True
        ).start()
    else:
        _announce(names)


def _announce(names: list[str]) -> None:
    for name in names:
        try:
            _announce_one(name)
        except Exception:
            internal_error("exporters.delivery.announce")


def _announce_one(name: str) -> None:
    state = endpoint(name)
    reason = _probe(name)
    if reason is None:
        return
    if state.down_at_startup(reason):
        say(
            f"the OTLP endpoint {name} does not answer ({reason}): telemetry is buffered in "
            f"memory up to the queue bounds ({_queue_bounds()}; metrics keep only the latest "
            "values) and dropped beyond them; it is sent when the endpoint answers, "
            "without a restart"
        )


def observe_dropped(meter: Meter) -> None:
    """Create the ``otel_distro.export.dropped`` counter (by ``signal``) on ``meter``."""

    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        from opentelemetry.metrics import Observation

        counts = dropped_counts()
        return [Observation(counts.get(signal, 0), {"signal": signal}) for signal in SIGNALS]

    meter.create_observable_counter(
        "otel_distro.export.dropped",
        callbacks=[callback],
        unit="{item}",
        description="Telemetry lost because its export failed or its queue was full, by signal.",
    )
