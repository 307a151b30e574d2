"""Security events: auth and tenant-boundary violations, token anomalies, abuse signals.

One event, three signals correlated by the trace: a ``security.violation`` span event
(and ``otel_distro.security.violation=<type>`` on the server span), one WARNING log
record (``auth_violation``, ``tenant_violation``, ``token_anomaly``) and the counter
``otel_distro.security.violations`` (violation type, status code and route only).
Violations are counted per client address and per user in a sliding window;
crossing a threshold gives one ``abuse_signal_detected`` (log record, span event and
``otel_distro.security.abuse_signals``) per key per window.

A 401/403 the app answers without an explicit event becomes one (``http_401``,
``http_403``; ``OTEL_DISTRO_SECURITY_AUTO``), and a bearer token rejected by the
distro's own check becomes ``token_<reason>``.
"""

from otel_distro.security._abuse import Crossing, WindowCounter
from otel_distro.security._address import client_address
from otel_distro.security._api import log_auth_violation, log_tenant_violation, log_token_anomaly
from otel_distro.security._events import (
    ABUSE_EVENT,
    LOG_EVENTS,
    SPAN_ATTRIBUTE,
    VIOLATION_EVENT,
)
from otel_distro.security._metrics import ABUSE_COUNTER, MAX_ATTRIBUTE_SETS, VIOLATION_COUNTER
from otel_distro.security._state import reset_state as reset_security

__all__ = [
    "ABUSE_COUNTER",
    "ABUSE_EVENT",
    "LOG_EVENTS",
    "MAX_ATTRIBUTE_SETS",
    "SPAN_ATTRIBUTE",
    "VIOLATION_COUNTER",
    "VIOLATION_EVENT",
    "Crossing",
    "WindowCounter",
    "client_address",
    "log_auth_violation",
    "log_tenant_violation",
    "log_token_anomaly",
    "reset_security",
]
