"""Security events in-process: one event as a span event, a server-span attribute, one
WARNING record and one counter increment, all redacted, through an instrumented ASGI app."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from otel_distro import set_tenant
from otel_distro.security import (
    VIOLATION_COUNTER,
    log_auth_violation,
    log_tenant_violation,
    log_token_anomaly,
)
from tests.security.conftest import Harness

pytestmark = pytest.mark.usefixtures("clean_logging_state")

VIOLATION = "otel_distro.security.violation"


def _forbidden(request: Request) -> Response:
    log_auth_violation(
        request=request,
        violation="missing_permission",
        http_status=403,
        detail=f"lacks sites:create (password={request.query_params.get('password', '')})",
        required="sites:create",
        api_key=request.headers.get("x-api-key", ""),
        note=f"retry with token={request.query_params.get('password', '')}",
    )
    return JSONResponse({"detail": "forbidden"}, status_code=403)


async def test_one_violation_gives_span_event_attribute_record_and_counter(
    security: Callable[..., Harness],
) -> None:
    """A 403 route's explicit violation: span event, server span attribute, record, counter."""
    harness = security()
    async with harness.client(Route("/admin/{item}", _forbidden)) as client:
        assert (await client.get("/admin/7", headers={"user-agent": "ua/1"})).status_code == 403
    (server,) = harness.server_spans()
    assert server.attributes is not None and server.attributes[VIOLATION] == "missing_permission"
    (event,) = [e for e in server.events if e.name == "security.violation"]
    attrs = dict(event.attributes or {})
    assert attrs[VIOLATION] == "missing_permission"
    assert attrs["http.route"] == "/admin/{item}" and attrs["url.path"] == "/admin/7"
    assert attrs["http.request.method"] == "GET" and attrs["user_agent.original"] == "ua/1"
    assert attrs["client.address"] == "127.0.0.1" and attrs["http.response.status_code"] == 403
    assert attrs["required"] == "sites:create"
    (record,) = harness.records("auth_violation")
    assert record.severity_text == "WARN"
    assert record.trace_id == server.context.trace_id
    assert dict(record.attributes or {})[VIOLATION] == "missing_permission"
    expected = {
        VIOLATION: "missing_permission",
        "http.response.status_code": 403,
        "http.route": "/admin/{item}",
    }
    assert harness.points(VIOLATION_COUNTER) == [(expected, 1)]


async def test_planted_secrets_reach_no_signal(security: Callable[..., Harness]) -> None:
    """Secrets in a header, the query and extra fields are absent from the span event, the
    record and the metric."""
    harness = security()
    header_secret, query_secret = secrets.token_hex(12), secrets.token_hex(12)
    async with harness.client(Route("/admin", _forbidden)) as client:
        await client.get(f"/admin?password={query_secret}", headers={"x-api-key": header_secret})
    (server,) = harness.server_spans()
    # the span's own attributes (http.target) are redacted by the exporter, not here
    seen = repr([(e.name, e.attributes) for e in server.events])
    seen += repr([(r.body, r.attributes) for r in harness.records()])
    seen += repr(harness.points(VIOLATION_COUNTER))
    assert "auth_violation" in seen
    assert header_secret not in seen and query_secret not in seen


async def test_counter_attributes_are_type_status_and_route_only(
    security: Callable[..., Harness],
) -> None:
    """No user id, tenant id or address on the counter, whatever the event carries."""
    harness = security()

    def route(request: Request) -> Response:
        set_tenant(tenant_id="t-1", user_id="u-1")
        log_auth_violation(request, violation="x", http_status=403, extra="e")
        return Response(status_code=403)

    async with harness.client(Route("/r", route)) as client:
        await client.get("/r")
    ((attributes, _),) = harness.points(VIOLATION_COUNTER)
    assert set(attributes) == {VIOLATION, "http.response.status_code", "http.route"}


async def test_tenant_violation_records_both_tenants(security: Callable[..., Harness]) -> None:
    """The caller's tenant from context and the resource's from the call are both recorded."""
    harness = security()

    def route(request: Request) -> Response:
        set_tenant(tenant_id="t-caller", user_id="u-1")
        log_tenant_violation(request=request, resource_tenant="t-9", resource="site:42")
        return Response(status_code=404)

    async with harness.client(Route("/sites/{id}", route)) as client:
        await client.get("/sites/42")
    (record,) = harness.records("tenant_violation")
    attrs = dict(record.attributes or {})
    assert attrs["tenant.id"] == "t-caller"
    assert attrs["otel_distro.security.resource_tenant"] == "t-9"
    assert attrs["otel_distro.security.resource"] == "site:42"
    assert attrs[VIOLATION] == "cross_tenant_access"


async def test_app_token_anomaly_is_typed_token(security: Callable[..., Harness]) -> None:
    """``log_token_anomaly("revoked_reuse")`` is a ``token_revoked_reuse`` token anomaly."""
    harness = security()

    def route(request: Request) -> Response:
        log_token_anomaly("revoked_reuse", request=request)
        return Response(status_code=401)

    async with harness.client(Route("/me", route)) as client:
        await client.get("/me")
    (record,) = harness.records("token_anomaly")
    assert dict(record.attributes or {})[VIOLATION] == "token_revoked_reuse"
    assert [p[0][VIOLATION] for p in harness.points(VIOLATION_COUNTER)] == ["token_revoked_reuse"]


async def test_request_omitted_uses_the_current_request(security: Callable[..., Harness]) -> None:
    """Without ``request=``, the event still knows the current request's route and address."""
    harness = security()

    def route(request: Request) -> Response:
        log_auth_violation(violation="no_request_given", http_status=403)
        return Response(status_code=403)

    async with harness.client(Route("/implicit", route), client=("10.1.2.3", 9)) as client:
        await client.get("/implicit")
    (record,) = harness.records("auth_violation")
    attrs = dict(record.attributes or {})
    assert attrs["http.route"] == "/implicit" and attrs["client.address"] == "10.1.2.3"


def test_outside_a_request_an_event_is_still_logged_and_counted(
    security: Callable[..., Harness],
) -> None:
    """Outside any request: a record and a counter increment, no route, no error."""
    harness = security()
    log_auth_violation(violation="cli_login_failed", http_status=401, detail="from a script")
    (record,) = harness.records("auth_violation")
    assert "http.route" not in dict(record.attributes or {})
    assert harness.points(VIOLATION_COUNTER) == [
        ({VIOLATION: "cli_login_failed", "http.response.status_code": 401}, 1)
    ]


@pytest.mark.parametrize(
    "request_value",
    [object(), {"type": "http", "headers": [(b"a",)], "client": "nonsense"}, 42, "GET /"],
)
def test_hostile_request_values_never_raise(
    security: Callable[..., Harness], request_value: Any
) -> None:
    """A request that is not a Request or scope still gives an event and never raises."""
    harness = security()
    log_auth_violation(request=request_value, violation="odd", http_status="403")
    assert len(harness.records("auth_violation")) == 1


def test_violation_types_are_bounded_tokens(security: Callable[..., Harness]) -> None:
    """A violation type with spaces, case and length is normalised and cut for attributes."""
    harness = security()
    log_auth_violation(violation="Bad Thing!" + "x" * 200, http_status=403)
    ((attributes, _),) = harness.points(VIOLATION_COUNTER)
    value = attributes[VIOLATION]
    assert value.startswith("bad_thing_") and len(value) <= 64


def test_counter_attribute_sets_stay_below_the_sdk_limit(security: Callable[..., Harness]) -> None:
    """5,000 distinct violation types: at most ``MAX_ATTRIBUTE_SETS`` (+ statuses) attribute
    sets, below the SDK's 2,000, and every violation still counted."""
    from otel_distro.security import MAX_ATTRIBUTE_SETS
    from otel_distro.security._metrics import SDK_CARDINALITY_LIMIT

    harness = security()
    for n in range(5000):
        log_auth_violation(violation=f"type_{n}", http_status=400 + n % 2)
    points = harness.points(VIOLATION_COUNTER)
    assert MAX_ATTRIBUTE_SETS < len(points) <= MAX_ATTRIBUTE_SETS + 2 < SDK_CARDINALITY_LIMIT
    assert sum(value for _, value in points) == 5000
    others = [attrs for attrs, _ in points if attrs[VIOLATION] == "other"]
    assert {a["http.response.status_code"] for a in others} == {400, 401}


def test_worst_case_attribute_sets_fit_under_the_sdks_own_limit(
    security: Callable[..., Harness],
) -> None:
    """Past the bound, every status code (100-599) gets its own ``other`` set: at most
    ``MAX_ATTRIBUTE_SETS + 501`` sets.  That is below the SDK's effective per-instrument
    limit, measured on a plain SDK counter (no ``otel.metric.overflow`` before it)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_distro.security import MAX_ATTRIBUTE_SETS
    from otel_distro.security._metrics import SDK_CARDINALITY_LIMIT

    harness = security()
    for n in range(MAX_ATTRIBUTE_SETS + 600):
        log_auth_violation(violation=f"type_{n}", http_status=100 + n % 500)
    for status in (None, "x"):
        log_auth_violation(violation="after_the_bound", http_status=status)
    worst = len(harness.points(VIOLATION_COUNTER))
    assert worst == MAX_ATTRIBUTE_SETS + 501

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    plain = provider.get_meter("limit-probe").create_counter("probe")
    for n in range(SDK_CARDINALITY_LIMIT + 100):
        plain.add(1, {"n": n})
    data = reader.get_metrics_data()
    assert data is not None
    (metric,) = data.resource_metrics[0].scope_metrics[0].metrics
    kept = [p for p in metric.data.data_points if "otel.metric.overflow" not in p.attributes]
    provider.shutdown()
    assert worst < len(kept)


def test_a_request_like_object_without_a_scope_is_read_by_its_attributes(
    security: Callable[..., Harness],
) -> None:
    """A test double with ``method``, ``url.path``, ``client.host`` and ``headers`` works."""
    from types import SimpleNamespace

    harness = security()
    request = SimpleNamespace(
        method="POST",
        url=SimpleNamespace(path="/api/v1/admin"),
        client=SimpleNamespace(host="192.0.2.10"),
        headers={"user-agent": "test-agent"},
    )
    log_auth_violation(request=request, violation="missing_permission", http_status=403)
    (record,) = harness.records("auth_violation")
    attrs = dict(record.attributes or {})
    assert attrs["http.request.method"] == "POST" and attrs["url.path"] == "/api/v1/admin"
    assert attrs["client.address"] == "192.0.2.10"
    assert attrs["user_agent.original"] == "test-agent"
