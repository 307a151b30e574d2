"""The core distro through real ``opentelemetry-instrument uvicorn`` launches.

Each test drives the demo app over HTTP and asserts on what reached an OTLP
receiver: one server span per request, the trace id as correlation id, the
tenant on every span, and the baggage trust and scope rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from examples.panel.tokens import DEFAULT_SECRET, make_token
from tests.support import AppProcess, OtlpCapture, launch_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def app(capture: OtlpCapture) -> Iterator[AppProcess]:
    """The demo app under our distro with default settings (module-wide: one launch)."""
    with launch_app(capture=capture) as process:
        yield process


def auth(user: str = "u-1", tenant: str = "t-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, tenant)}"}


def trace_id_of(response: httpx.Response) -> str:
    trace_id = response.headers["x-request-id"]
    assert len(trace_id) == 32 and int(trace_id, 16)
    return trace_id


def spans_of(capture: OtlpCapture, trace_id: str, count: int = 1) -> list[Any]:
    """Wait for the server span(s) of a trace, then return all of its spans."""
    capture.wait_for(
        lambda: len([s for s in capture.spans(trace_id=trace_id) if s.kind == "SERVER"]) >= count,
        message=f"server span of trace {trace_id}",
    )
    return capture.spans(trace_id=trace_id)


def test_one_server_span_per_request_named_by_route(app: AppProcess, capture: OtlpCapture) -> None:
    """A request yields exactly one server span, named by method and route template."""
    created = app.client().post("/sites", json={"name": "a", "domain": "a.example"}, headers=auth())
    site_id = created.json()["id"]
    response = app.client().get(f"/sites/{site_id}", headers=auth())
    assert response.status_code == 200
    spans = spans_of(capture, trace_id_of(response))
    servers = [s for s in spans if s.kind == "SERVER"]
    assert len(servers) == 1
    assert servers[0].name == "GET /sites/{site_id}"
    assert servers[0].attributes["http.route"] == "/sites/{site_id}"
    assert not [s for s in spans if s.name.endswith(("http send", "http receive"))]


def test_response_headers_carry_the_exported_trace_id(
    app: AppProcess, capture: OtlpCapture
) -> None:
    """traceresponse and X-Request-ID equal the trace id of the exported server span."""
    response = app.client().get("/health")
    trace_id = trace_id_of(response)
    version, tr_trace, tr_span, _flags = response.headers["traceresponse"].split("-")
    assert (version, tr_trace) == ("00", trace_id)
    server = [s for s in spans_of(capture, trace_id) if s.kind == "SERVER"][0]
    assert server.span_id == tr_span


def test_client_request_id_is_recorded_not_trusted(app: AppProcess, capture: OtlpCapture) -> None:
    """A client X-Request-ID is kept (sanitised) as an attribute; the trace id stays ours."""
    hostile = "abc-123\r\n<script>" + "x" * 500
    response = app.client().get("/health", headers={"X-Request-ID": hostile.replace("\r\n", "")})
    trace_id = trace_id_of(response)
    assert trace_id != hostile
    server = [s for s in spans_of(capture, trace_id) if s.kind == "SERVER"][0]
    recorded = server.attributes["http.request.header.x-request-id"]
    assert recorded[0].startswith("abc-123script")
    assert len(recorded[0]) <= 64


@pytest.mark.parametrize("route", ["/sites/{id}", "/sites/{id}/status"])
def test_tenant_and_user_on_every_span(app: AppProcess, capture: OtlpCapture, route: str) -> None:
    """After authentication (sync or async dependency) every later span carries the tenant."""
    created = app.client().post(
        "/sites", json={"name": "b", "domain": "b.example"}, headers=auth("u-7", "t-7")
    )
    path = route.replace("{id}", created.json()["id"])
    response = app.client().get(path, headers=auth("u-7", "t-7"))
    assert response.status_code == 200
    spans = spans_of(capture, trace_id_of(response), count=2 if "status" in route else 1)
    # the upstream hop is a second request (to ourselves, from an untrusted peer): skip it
    ours = [s for s in spans if not (s.kind == "SERVER" and s.parent_span_id)]
    assert len(ours) == (2 if "status" in route else 1)
    for span in ours:
        assert span.attributes.get("tenant.id") == "t-7", span
        assert span.attributes.get("user.id") == "u-7", span


def test_forged_baggage_from_untrusted_peer_goes_nowhere(
    app: AppProcess, capture: OtlpCapture
) -> None:
    """tenant.id=evil in inbound baggage is dropped: not exported, not forwarded."""
    created = app.client().post("/sites", json={"name": "c", "domain": "c.example"}, headers=auth())
    response = app.client().get(
        f"/sites/{created.json()['id']}/status",
        headers={**auth(), "baggage": "tenant.id=evil,user.id=mallory,plan=gold"},
    )
    forwarded = response.json()["upstream"]["headers"]
    assert "evil" not in forwarded.get("baggage", "")
    assert "tenant.id=t-1" in forwarded.get("baggage", "")  # the authenticated tenant flows
    trace_id = trace_id_of(response)
    spans_of(capture, trace_id, count=2)
    assert b"evil" not in capture.raw_bytes()
    assert b"mallory" not in capture.raw_bytes()


def test_outbound_traceparent_always_flows(app: AppProcess, capture: OtlpCapture) -> None:
    """The outbound call carries traceparent of the same trace."""
    created = app.client().post("/sites", json={"name": "d", "domain": "d.example"}, headers=auth())
    response = app.client().get(f"/sites/{created.json()['id']}/status", headers=auth())
    forwarded = response.json()["upstream"]["headers"]
    assert forwarded["traceparent"].split("-")[1] == trace_id_of(response)


def test_trusted_peer_baggage_is_honoured(otlp_capture: OtlpCapture) -> None:
    """From a peer in OTEL_DISTRO_TRUSTED_PEERS, inbound tenant baggage is kept."""
    with launch_app(capture=otlp_capture, env={"OTEL_DISTRO_TRUSTED_PEERS": "127.0.0.1/32"}) as app:
        response = app.client().get("/health", headers={"baggage": "tenant.id=partner"})
        server = [s for s in spans_of(otlp_capture, trace_id_of(response)) if s.kind == "SERVER"]
        assert server[0].attributes["tenant.id"] == "partner"


def test_no_baggage_to_hosts_outside_the_allow_list(otlp_capture: OtlpCapture) -> None:
    """With loopback outside OTEL_DISTRO_BAGGAGE_PROPAGATE_TO the upstream gets no baggage."""
    with launch_app(
        capture=otlp_capture, env={"OTEL_DISTRO_BAGGAGE_PROPAGATE_TO": "*.internal,10.0.0.0/8"}
    ) as app:
        created = app.client().post(
            "/sites", json={"name": "e", "domain": "e.example"}, headers=auth()
        )
        response = app.client().get(
            f"/sites/{created.json()['id']}/status", headers={**auth(), "baggage": "plan=gold"}
        )
        forwarded = response.json()["upstream"]["headers"]
        assert "baggage" not in forwarded
        assert "traceparent" in forwarded


def test_builtin_jwt_resolution(otlp_capture: OtlpCapture) -> None:
    """With OTEL_DISTRO_JWT_SECRET a verified token sets the tenant; bad tokens set nothing."""
    env = {"OTEL_DISTRO_JWT_SECRET": DEFAULT_SECRET}
    with launch_app(capture=otlp_capture, env=env) as app:
        good = app.client().get("/upstream/echo-headers", headers=auth("u-9", "t-9"))
        expired = app.client().get(
            "/upstream/echo-headers",
            headers={"Authorization": f"Bearer {make_token('u-x', 't-x', expires_in=-60)}"},
        )
        good_span = [s for s in spans_of(otlp_capture, trace_id_of(good)) if s.kind == "SERVER"][0]
        assert good_span.attributes["tenant.id"] == "t-9"
        assert good_span.attributes["user.id"] == "u-9"
        bad_span = [s for s in spans_of(otlp_capture, trace_id_of(expired)) if s.kind == "SERVER"][
            0
        ]
        assert "tenant.id" not in bad_span.attributes
        assert [e.attributes["reason"] for e in bad_span.events] == ["expired"]


def test_bad_configuration_is_reported_and_the_app_serves(otlp_capture: OtlpCapture) -> None:
    """Each bad value gives one clear stderr line; the app still serves and exports."""
    env = {
        "LOG_LEVEL": "LOUD",
        "LOG_FILE_MAX_BYTES": "-3",
        "OTEL_DISTRO_TRUSTED_PEERS": "10.0.0.0/99",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon",
        "OTEL_TRACES_EXPORTER": "otlp,nonsense",
    }
    with launch_app(capture=otlp_capture, env=env) as app:
        response = app.client().get("/health")
        assert response.status_code == 200
        spans_of(otlp_capture, trace_id_of(response))
        app.stop()
        stderr = app.stderr_text()
    for name, value in env.items():
        assert stderr.count(f"{name}={value!r}") == 1, stderr
    assert "Traceback" not in stderr


def test_disabled_means_nothing_is_exported(otlp_capture: OtlpCapture) -> None:
    """ENABLE_OPENTELEMETRY=false: the app serves and no telemetry leaves the process."""
    with launch_app(capture=otlp_capture, env={"ENABLE_OPENTELEMETRY": "false"}) as app:
        assert app.client().get("/health").status_code == 200
        app.stop()
    assert otlp_capture.received() == []


def test_two_workers_both_export_without_duplicates(otlp_capture: OtlpCapture) -> None:
    """uvicorn --workers 2: spans come from two processes, each request exported once, and
    each process has its own service.instance.id (what gateways and backends tell apart)."""
    from concurrent.futures import ThreadPoolExecutor

    def fresh_request(_: int) -> str:
        with httpx.Client(base_url=app.base_url) as fresh:  # a new connection each time
            return trace_id_of(fresh.get("/health"))

    def pids_of(trace_ids: set[str]) -> set[object]:
        servers = otlp_capture.spans(kind="SERVER")
        return {s.resource.get("process.pid") for s in servers if s.trace_id in trace_ids}

    with launch_app(capture=otlp_capture, workers=2) as app:
        trace_ids: list[str] = []
        # concurrent batches keep both workers accepting; stop once both have served
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(10):
                trace_ids += list(pool.map(fresh_request, range(24)))
                wanted = set(trace_ids)  # the launcher's own health probes are not ours
                otlp_capture.wait_for(
                    lambda: wanted <= {s.trace_id for s in otlp_capture.spans(kind="SERVER")},
                    message=f"the server spans of all {len(wanted)} requests",
                )
                if len(pids_of(wanted)) == 2:
                    break
        app.stop()
    wanted = set(trace_ids)
    servers = [s for s in otlp_capture.spans() if s.kind == "SERVER" and s.trace_id in wanted]
    assert sorted(s.trace_id for s in servers) == sorted(trace_ids)
    assert len({s.span_id for s in servers}) == len(servers)
    pids = pids_of(wanted)
    assert len(pids) == 2, pids
    instances = {
        (s.resource.get("process.pid"), s.resource.get("service.instance.id")) for s in servers
    }
    assert len(instances) == 2 and all(instance for _, instance in instances), instances
    assert len({instance for _, instance in instances}) == 2
