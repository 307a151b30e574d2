"""``otel_capture`` in a user's test suite: queries return what the pipeline exported."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def _passes(pytester: pytest.Pytester, source: str, passed: int = 1) -> None:
    pytester.makepyfile(test_user=source)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed)


def test_an_endpoint_emits_auth_violation_with_the_route_and_no_token(
    sample: pytest.Pytester,
) -> None:
    """The seed's violation example: one WARNING auth_violation with method and route, the
    bearer token nowhere in any signal."""
    _passes(
        sample,
        """
import secrets
from starlette.testclient import TestClient
from sample_app import app

def test_violation_is_logged(otel_capture):
    token = secrets.token_urlsafe(24)
    client = TestClient(app)
    response = client.post("/api/v1/admin/7", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 403
    (record,) = otel_capture.logs(event="auth_violation", level="warning")
    assert record.attributes["otel_distro.security.violation"] == "missing_permission"
    assert record.attributes["http.request.method"] == "POST"
    assert record.attributes["http.route"] == "/api/v1/admin/{item}"
    (server,) = otel_capture.spans(kind="server")
    assert record.trace_id == server.trace_id
    assert server.event("security.violation")
    otel_capture.assert_no_secret(token)
""",
    )


def test_queries_return_logs_metrics_and_one_trace(sample: pytest.Pytester) -> None:
    """logs(event, level), metric(name) and trace(id) return what the pipeline exported."""
    _passes(
        sample,
        """
from starlette.testclient import TestClient
from sample_app import app

def test_queries(otel_capture):
    client = TestClient(app)
    client.get("/orders/1")
    client.get("/orders/2")
    viewed = otel_capture.logs(event="order_viewed")
    assert [r.attributes["item"] for r in viewed] == ["1", "2"]
    assert otel_capture.logs(event="order_viewed", level="error") == []
    assert [r.level for r in otel_capture.logs(event="order_viewed", level="INFO")] == ["INFO"] * 2
    (point,) = otel_capture.metric("sample.orders")
    assert point.attributes == {"kind": "view"} and point.value == 2
    assert otel_capture.metric("no.such.metric") == []
    first = viewed[0].trace_id
    trace = otel_capture.trace(first)
    assert trace.root().kind == "SERVER" and trace.root().name == "GET /orders/1"
    assert {r.event for r in trace.logs} >= {"order_viewed"}
    assert all(s.trace_id == first for s in trace.spans)
""",
    )


def test_a_secret_redacted_by_the_pipeline_is_absent(sample: pytest.Pytester) -> None:
    """A password planted in a logged field is redacted in the exported record, and
    assert_no_secret passes."""
    _passes(
        sample,
        """
import secrets
from starlette.testclient import TestClient
from sample_app import app

def test_redacted(otel_capture):
    secret = secrets.token_hex(16)
    TestClient(app).get("/orders/9", params={"note": f"password={secret}"})
    (record,) = otel_capture.logs(event="order_viewed")
    assert secret not in record.attributes["note"]
    otel_capture.assert_no_secret(secret)
""",
    )


def test_assert_no_secret_fails_when_a_value_was_exported(sample: pytest.Pytester) -> None:
    """A value the pipeline does not treat as secret is found, and the failure names
    the signal it reached."""
    sample.makepyfile(
        test_user="""
import secrets
from starlette.testclient import TestClient
from sample_app import app

def test_leak(otel_capture):
    item = secrets.token_hex(8)
    TestClient(app).get(f"/orders/{item}")
    otel_capture.assert_no_secret(item)
"""
    )
    result = sample.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: a secret*was exported in: *span*"])


def test_state_is_clean_between_two_tests(sample: pytest.Pytester) -> None:
    """A second test sees none of the first test's spans, records or metric points."""
    _passes(
        sample,
        """
from starlette.testclient import TestClient
from sample_app import app

def test_first(otel_capture):
    TestClient(app).get("/orders/1")
    assert otel_capture.spans(kind="server")
    assert otel_capture.metric("sample.orders")[0].value == 1

def test_second(otel_capture):
    assert otel_capture.spans() == [] and otel_capture.logs() == []
    assert otel_capture.metric("sample.orders") == []
    TestClient(app).get("/orders/2")
    assert otel_capture.metric("sample.orders")[0].value == 1
""",
        passed=2,
    )


def test_otel_capture_env_configures_the_distro(sample: pytest.Pytester) -> None:
    """Overriding ``otel_capture_env`` sets the distro's variables for the capture only."""
    _passes(
        sample,
        """
import os
import pytest
from starlette.testclient import TestClient
from sample_app import app

@pytest.fixture
def otel_capture_env():
    return {"OTEL_DISTRO_ACCESS_LOG": "false"}

def test_no_access_log(otel_capture):
    TestClient(app).get("/orders/1")
    assert otel_capture.logs(event="http_request") == []
    assert os.environ["OTEL_DISTRO_ACCESS_LOG"] == "false"

def test_env_restored():
    assert "OTEL_DISTRO_ACCESS_LOG" not in os.environ
""",
        passed=2,
    )


def test_tests_without_the_fixture_are_untouched(pytester: pytest.Pytester) -> None:
    """Loading the plugin configures nothing: no provider, no handler, no structlog chain."""
    pytester.makepyfile(
        test_other="""
import logging
import structlog
from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider

def test_nothing_installed():
    assert logging.getLogger().handlers == []
    assert not structlog.is_configured()

def test_plugin_loaded(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("otel_distro")
"""
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:logging")
    result.assert_outcomes(passed=2)


def test_async_client_baggage_and_security_counter(sample: pytest.Pytester) -> None:
    """With httpx's ASGITransport: the tenant set in the request is copied onto its spans
    and records, and the violation counter has a point for the route."""
    _passes(
        sample,
        """
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from otel_distro import set_tenant
from otel_distro.asgi import instrument
from otel_distro.logging import get_logger
from otel_distro.security import log_tenant_violation

async def report(request: Request) -> JSONResponse:
    set_tenant(tenant_id="t-42", user_id="u-7")
    get_logger("reports").info("report_opened")
    log_tenant_violation(request=request, violation="cross_tenant", http_status=403)
    return JSONResponse({}, status_code=403)

app = instrument(Starlette(routes=[Route("/reports/{rid}", report)]))

@pytest.mark.asyncio
async def test_async(otel_capture):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/reports/3")).status_code == 403
    (record,) = otel_capture.logs(event="report_opened")
    assert record.attributes["tenant.id"] == "t-42"
    (server,) = otel_capture.spans(kind="SERVER")
    assert server.attributes["tenant.id"] == "t-42"
    points = otel_capture.metric("otel_distro.security.violations")
    assert [p.value for p in points] == [1]
    assert points[0].attributes["http.route"] == "/reports/{rid}"
""",
    )


def test_workers_of_pytest_xdist_each_capture_their_own(sample: pytest.Pytester) -> None:
    """Under ``-n 2`` every test sees exactly its own request, whichever worker runs it."""
    sample.makepyfile(
        test_user="""
import pytest
from starlette.testclient import TestClient
from sample_app import app

@pytest.mark.parametrize("item", [str(n) for n in range(8)])
def test_own_request(otel_capture, item):
    TestClient(app).get(f"/orders/{item}")
    assert [r.attributes["item"] for r in otel_capture.logs(event="order_viewed")] == [item]
    assert otel_capture.metric("sample.orders")[0].value == 1
"""
    )
    result = sample.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)


def test_the_process_is_left_as_it_was(pytester: pytest.Pytester) -> None:
    """After a capture the root logger, the propagator and structlog are as before it."""
    _passes(
        pytester,
        """
import logging
import structlog
from opentelemetry import propagate

before = {}

def test_record_before():
    before["handlers"] = list(logging.getLogger().handlers)
    before["textmap"] = propagate.get_global_textmap()

def test_capture(otel_capture):
    assert propagate.get_global_textmap() is not before["textmap"]

def test_after():
    assert logging.getLogger().handlers == before["handlers"]
    assert propagate.get_global_textmap() is before["textmap"]
    assert not structlog.is_configured()
""",
        passed=3,
    )


def test_span_attributes_are_read_after_the_redacting_exporter(sample: pytest.Pytester) -> None:
    """A secret set as a span attribute under a sensitive key is masked in the captured span."""
    _passes(
        sample,
        """
import secrets
from opentelemetry import trace

def test_span(otel_capture):
    secret = secrets.token_hex(16)
    with trace.get_tracer("work").start_as_current_span("charge") as span:
        span.set_attribute("api_key", secret)
        span.set_attribute("amount", 12)
    (charge,) = otel_capture.spans(name="charge", kind="internal")
    assert charge.attributes["amount"] == 12
    assert charge.attributes["api_key"] != secret
    otel_capture.assert_no_secret(secret)
""",
    )


def test_a_fastapi_app_with_fastapis_test_client(pytester: pytest.Pytester) -> None:
    """A FastAPI app wrapped by ``instrument`` runs as under ``opentelemetry-instrument``:
    one server span named by its route, one access-log record, the distro's hook (the
    client's request id recorded, ``traceresponse`` sent) and no token anywhere."""
    _passes(
        pytester,
        """
import secrets
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from otel_distro.asgi import instrument
from otel_distro.security import log_auth_violation

api = FastAPI()

@api.post("/api/v1/admin/{item}")
async def admin(item: str, request: Request):
    log_auth_violation(request=request, violation="missing_permission", http_status=403)
    return {"item": item}

app = instrument(api)

def test_fastapi(otel_capture):
    token = secrets.token_urlsafe(24)
    response = TestClient(app).post(
        "/api/v1/admin/7", headers={"authorization": f"Bearer {token}", "x-request-id": "r-1"}
    )
    assert response.status_code == 200
    (server,) = otel_capture.spans(kind="server")
    assert server.name == "POST /api/v1/admin/{item}"
    assert server.attributes["http.request.header.x-request-id"] == ["r-1"]
    assert response.headers["traceresponse"].split("-")[1] == server.trace_id
    (access,) = otel_capture.logs(event="http_request")
    assert access.trace_id == server.trace_id
    assert access.attributes["http.route"] == "/api/v1/admin/{item}"
    (record,) = otel_capture.logs(event="auth_violation")
    assert record.attributes["http.route"] == "/api/v1/admin/{item}"
    otel_capture.assert_no_secret(token)
""",
    )


def test_assert_no_secret_searches_log_records_and_metric_points(
    pytester: pytest.Pytester,
) -> None:
    """A value that reached only a log record, or only a metric point's attributes, is
    found there: the failure names that signal."""
    pytester.makepyfile(
        test_user="""
import secrets
from opentelemetry import metrics
from otel_distro.logging import get_logger

def test_only_in_a_record(otel_capture):
    value = secrets.token_hex(8)
    get_logger("user").info("order_placed", reference=value)
    assert otel_capture.find(value) == ["log record 'order_placed'"]
    otel_capture.assert_no_secret(value)

def test_only_in_a_metric(otel_capture):
    value = secrets.token_hex(8)
    metrics.get_meter("user").create_counter("user.orders").add(1, {"reference": value})
    assert otel_capture.find(value) == ["metric 'user.orders'"]
    otel_capture.assert_no_secret(value)
"""
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: a secret (16 characters) was exported in: log record 'order_placed'",
            "*AssertionError: a secret (16 characters) was exported in: metric 'user.orders'",
        ]
    )


def test_inbound_context_goes_through_the_distros_propagators(sample: pytest.Pytester) -> None:
    """The capture installs the distro's propagators: a client's traceparent continues its
    trace, and the tenant it claims in baggage is not trusted (no tenant.id anywhere)."""
    _passes(
        sample,
        """
from starlette.testclient import TestClient
from sample_app import app

def test_inbound(otel_capture):
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    TestClient(app).get(
        "/orders/4", headers={"traceparent": parent, "baggage": "tenant.id=other-tenant"}
    )
    (server,) = otel_capture.spans(kind="server")
    assert server.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert server.parent_span_id == "b7ad6b7169203331"
    (record,) = otel_capture.logs(event="order_viewed")
    assert record.trace_id == server.trace_id
    assert "tenant.id" not in server.attributes and "tenant.id" not in record.attributes
    otel_capture.assert_no_secret("other-tenant")
""",
    )


def test_stdlib_logging_is_bridged_into_the_capture(pytester: pytest.Pytester) -> None:
    """A record from the standard library's logging reaches ``logs()`` through the
    distro's bridge, correlated with the current span and redacted like any other."""
    _passes(
        pytester,
        """
import logging
import secrets
from opentelemetry import trace

def test_stdlib(otel_capture):
    secret = secrets.token_hex(16)
    with trace.get_tracer("work").start_as_current_span("job") as span:
        logging.getLogger("billing").warning("charge failed password=%s", secret)
    (record,) = otel_capture.logs(level="warning")
    assert record.event.startswith("charge failed") and record.level == "WARN"
    assert record.trace_id == format(span.get_span_context().trace_id, "032x")
    otel_capture.assert_no_secret(secret)
""",
    )
