"""The security counters, with attribute sets bounded well below the SDK's cardinality limit.

``otel_distro.security.violations`` carries the violation type, the status code and the
route template only; ``otel_distro.security.abuse_signals`` the key kind (``host`` or
``user``) and the violation type that crossed the threshold.  Never user ids, tenant
ids or addresses.  The metrics specification's default cardinality limit is 2,000
attribute sets per instrument (:data:`SDK_CARDINALITY_LIMIT`; the pinned Python SDK
enforces none, so this bound is the only one): the distro stops at
:data:`MAX_ATTRIBUTE_SETS`, and a new combination past it is counted as violation type
``other`` with its status code and no route, so totals stay exact and each counter has
at most :data:`MAX_ATTRIBUTE_SETS` + 501 attribute sets (``other`` per status code).
"""

from __future__ import annotations

import re
import threading

from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider
from opentelemetry.util.types import AttributeValue

__all__ = [
    "ABUSE_COUNTER",
    "MAX_ATTRIBUTE_SETS",
    "SDK_CARDINALITY_LIMIT",
    "VIOLATION_COUNTER",
    "Instruments",
    "normalize_route",
    "normalize_type",
]

VIOLATION_COUNTER = "otel_distro.security.violations"
ABUSE_COUNTER = "otel_distro.security.abuse_signals"
SDK_CARDINALITY_LIMIT = 2000  # the specification's default; a limit an SDK may enforce
MAX_ATTRIBUTE_SETS = 1000
MAX_TYPE_LENGTH = 64
MAX_ROUTE_LENGTH = 128
OTHER = "other"

TYPE_ATTRIBUTE = "otel_distro.security.violation"
STATUS_ATTRIBUTE = "http.response.status_code"
ROUTE_ATTRIBUTE = "http.route"
KIND_ATTRIBUTE = "otel_distro.security.abuse.key_kind"

_UNSAFE_TYPE = re.compile(r"[^a-z0-9_.:-]")


def normalize_type(value: object) -> str:
    """A violation type fit for an attribute value: lower-case token characters, bounded."""
    try:
        text = str(value).strip().lower()
    except Exception:
        return "unknown"
    text = _UNSAFE_TYPE.sub("_", text)[:MAX_TYPE_LENGTH]
    return text or "unknown"


def normalize_route(value: object) -> str | None:
    """A route template (``/sites/{site_id}``), bounded; None when there is none."""
    if not isinstance(value, str) or not value:
        return None
    return value[:MAX_ROUTE_LENGTH]


class Instruments:
    """The two counters, created from a meter provider (the global one by default)."""

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        from otel_distro import __version__

        provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
        meter = provider.get_meter("otel_distro.security", __version__)
        self.violations = meter.create_counter(
            VIOLATION_COUNTER,
            unit="{violation}",
            description="Security violations (auth, tenant boundary, token anomalies)",
        )
        self.abuse_signals = meter.create_counter(
            ABUSE_COUNTER,
            unit="{signal}",
            description="Abuse signals: a client address or user over its violation threshold",
        )
        self._lock = threading.Lock()
        self._seen: set[tuple[str, int | None, str | None]] = set()

    def count_violation(self, violation: str, status: int | None, route: str | None) -> None:
        key = (violation, status, route)
        if key not in self._seen:
            with self._lock:
                if len(self._seen) < MAX_ATTRIBUTE_SETS:
                    self._seen.add(key)
                else:
                    key = (OTHER, status, None)
        attributes: dict[str, AttributeValue] = {TYPE_ATTRIBUTE: key[0]}
        if key[1] is not None:
            attributes[STATUS_ATTRIBUTE] = key[1]
        if key[2] is not None:
            attributes[ROUTE_ATTRIBUTE] = key[2]
        self.violations.add(1, attributes)

    def count_abuse(self, kind: str, violation: str) -> None:
        key = (f"abuse:{kind}:{violation}", None, None)
        if key not in self._seen:
            with self._lock:
                if len(self._seen) < MAX_ATTRIBUTE_SETS:
                    self._seen.add(key)
                else:
                    violation = OTHER
        self.abuse_signals.add(1, {KIND_ATTRIBUTE: kind, TYPE_ATTRIBUTE: violation})
