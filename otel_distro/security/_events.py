"""One security event, three signals: a span event, a WARNING log record and a counter.

Every value goes through the redactor before it is put on a span or into a record
(the exporters redact again).  The counter carries only the violation type, the
status code and the route.  Each event also feeds the abuse detector: a client
address or user crossing its threshold gives one ``abuse_signal_detected``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from otel_distro._report import internal_error
from otel_distro.context import current_tenant, sanitize_identifier
from otel_distro.security._abuse import Crossing
from otel_distro.security._address import client_address
from otel_distro.security._metrics import KIND_ATTRIBUTE, TYPE_ATTRIBUTE, normalize_type
from otel_distro.security._request import current_mark, request_fields, scope_of, server_span
from otel_distro.security._state import SecurityState, get_state

__all__ = [
    "ABUSE_EVENT",
    "CATEGORY_ATTRIBUTE",
    "LOGGER_NAME",
    "LOG_EVENTS",
    "SPAN_ATTRIBUTE",
    "VIOLATION_EVENT",
    "record_violation",
]

VIOLATION_EVENT = "security.violation"
ABUSE_EVENT = "abuse_signal_detected"
SPAN_ATTRIBUTE = "otel_distro.security.violation"
CATEGORY_ATTRIBUTE = "otel_distro.security.category"
DETAIL_ATTRIBUTE = "otel_distro.security.detail"
LOGGER_NAME = "otel_distro.security"
LOG_EVENTS = {
    "auth": "auth_violation",
    "tenant": "tenant_violation",
    "token": "token_anomaly",
}
MAX_DETAIL = 1024
MAX_EXTRA_FIELDS = 32
MAX_EXTRA_KEY = 64
MAX_EXTRA_VALUE = 1024

_stdlib_logger = logging.getLogger(LOGGER_NAME)


def _status(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except (TypeError, ValueError):
            return None
    return value if 100 <= value <= 599 else None


def _attribute(value: object) -> AttributeValue:
    """A redacted value as an attribute value (str, bool, int, float or a list of one)."""
    if isinstance(value, (str, bool, int, float)):
        return value[:MAX_EXTRA_VALUE] if isinstance(value, str) else value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v[:MAX_EXTRA_VALUE] for v in value[:MAX_EXTRA_FIELDS]]
    try:
        return str(value)[:MAX_EXTRA_VALUE]
    except Exception:
        return "<unprintable>"


def _redacted(fields: Mapping[str, object]) -> dict[str, AttributeValue]:
    from otel_distro.redaction import REDACTED, get_redactor

    try:
        redacted = get_redactor().redact_mapping(fields)
    except Exception:
        internal_error("security.redaction")
        return {key: REDACTED for key in fields}
    return {key: _attribute(value) for key, value in redacted.items() if value is not None}


def _emit_log(event: str, fields: dict[str, AttributeValue]) -> None:
    from otel_distro.logging._pipeline import LEVELS
    from otel_distro.logging._structlog import Holder

    pipeline = Holder.pipeline
    level = LEVELS["warning"]
    if pipeline is not None:
        if level[0] >= pipeline.min_level:
            pipeline.capture(level, LOGGER_NAME, event, fields)
        return
    _stdlib_logger.warning("%s %s", event, fields)


def _add_span_event(name: str, attributes: dict[str, AttributeValue]) -> None:
    span: Span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name, attributes)


def record_violation(
    category: str,
    violation: object,
    request: object = None,
    http_status: object = None,
    detail: object = None,
    user_id: object = None,
    fields: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
    explicit: bool = True,
) -> None:
    """Emit one security event (never raises; see the module docstring)."""
    try:
        _record(category, violation, request, http_status, detail, user_id, fields, extra, explicit)
    except Exception:
        internal_error("security.event")


def _record(
    category: str,
    violation: object,
    request: object,
    http_status: object,
    detail: object,
    user_id: object,
    fields: Mapping[str, object] | None,
    extra: Mapping[str, object] | None,
    explicit: bool,
) -> None:
    state = get_state()
    violation_type = normalize_type(violation)
    status = _status(http_status)
    scope = scope_of(request)
    span = server_span()
    raw: dict[str, object] = {}
    for key, value in list((extra or {}).items())[:MAX_EXTRA_FIELDS]:
        if isinstance(key, str) and key:
            raw[key[:MAX_EXTRA_KEY]] = value
    raw.update(request_fields(scope, span))
    address = client_address(scope, state.trusted_proxies) if scope is not None else None
    if address is not None:
        raw["client.address"] = address
    if status is not None:
        raw["http.response.status_code"] = status
    tenant, context_user = current_tenant()
    user = sanitize_identifier(user_id) if user_id is not None else context_user
    if tenant is not None:
        raw["tenant.id"] = tenant
    if user is not None:
        raw["user.id"] = user
    if fields:
        raw.update(fields)
    if detail is not None:
        raw[DETAIL_ATTRIBUTE] = str(detail)[:MAX_DETAIL]
    raw[CATEGORY_ATTRIBUTE] = category
    raw[TYPE_ATTRIBUTE] = violation_type
    attributes = _redacted(raw)

    if explicit:
        mark = current_mark()
        if mark is not None:
            mark.recorded = True
    _add_span_event(VIOLATION_EVENT, attributes)
    if span is not None and span.is_recording():
        span.set_attribute(SPAN_ATTRIBUTE, violation_type)
    _emit_log(LOG_EVENTS.get(category, "security_violation"), dict(attributes))
    route = attributes.get("http.route")
    state.instruments.count_violation(
        violation_type, status, route if isinstance(route, str) else None
    )
    _track_abuse(state, violation_type, address, user, attributes)


def _track_abuse(
    state: SecurityState,
    violation_type: str,
    address: str | None,
    user: str | None,
    attributes: Mapping[str, AttributeValue],
) -> None:
    crossings: list[tuple[str, Crossing]] = []
    if address is not None:
        crossing = state.hosts.record(address)
        if crossing is not None:
            crossings.append(("host", crossing))
    if user is not None:
        crossing = state.users.record(user)
        if crossing is not None:
            crossings.append(("user", crossing))
    for kind, crossing in crossings:
        _emit_abuse(state, kind, crossing, violation_type, attributes)


def _emit_abuse(
    state: SecurityState,
    kind: str,
    crossing: Crossing,
    violation_type: str,
    attributes: Mapping[str, AttributeValue],
) -> None:
    raw: dict[str, object] = {
        KIND_ATTRIBUTE: kind,
        "client.address" if kind == "host" else "user.id": crossing.key,
        "otel_distro.security.abuse.count": crossing.count,
        "otel_distro.security.abuse.threshold": crossing.threshold,
        "otel_distro.security.abuse.window_seconds": crossing.window_seconds,
        TYPE_ATTRIBUTE: violation_type,
        CATEGORY_ATTRIBUTE: "abuse",
    }
    for key in ("http.request.method", "http.route", "url.path", "tenant.id"):
        if key in attributes:
            raw[key] = attributes[key]
    redacted = _redacted(raw)
    _add_span_event(ABUSE_EVENT, redacted)
    _emit_log(ABUSE_EVENT, dict(redacted))
    state.instruments.count_abuse(kind, violation_type)
