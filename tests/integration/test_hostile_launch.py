"""Hostile traffic and hostile configuration through real ``opentelemetry-instrument`` launches.

* Tenant isolation under concurrency: many keep-alive connections, many tenants, the sync
  and async auth dependencies and the outbound call mixed; every span, log record and
  forwarded ``baggage`` header carries its own request's tenant, never another's or a stale
  one, and a forged ``tenant.id`` in baggage never beats the verified token.
* Hostile headers never break a request.
* Misconfiguration gives one stderr line naming the variable, and the app still serves.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from examples.panel.tokens import DEFAULT_SECRET, make_token
from tests.support import AppProcess, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

TENANTS = [f"t-{n}" for n in range(12)]
THREADS = 12
ROUNDS = 12  # requests per thread: 144 in all


@pytest.fixture(scope="module")
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


@pytest.fixture(scope="module", params=["app-auth", "hook-auth"])
def app(capture: OtlpCapture, request: pytest.FixtureRequest) -> Iterator[AppProcess]:
    """The demo app, its own auth dependencies calling ``set_tenant`` (and, for
    ``hook-auth``, the distro's request hook verifying the same tokens first), with
    127.0.0.1 trusted: its upstream hop honours forwarded baggage, and forged baggage from
    the test client passes the peer check, so only the token can win."""
    env = {"OTEL_DISTRO_TRUSTED_PEERS": "127.0.0.1/32"}
    if request.param == "hook-auth":
        env["OTEL_DISTRO_JWT_SECRET"] = DEFAULT_SECRET
    with launch_app(capture=capture, env=env) as process:
        yield process


def _auth(tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(f'u-{tenant}', tenant)}"}


def _baggage_of(header: str) -> dict[str, str]:
    pairs = (item.split(";")[0].split("=", 1) for item in header.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def test_tenant_isolation_under_concurrency(app: AppProcess, capture: OtlpCapture) -> None:
    """144 concurrent requests over 12 keep-alive connections and 12 tenants; the 401s of
    the sync dependency (which logs ``auth_failed`` from a reused pool thread) carry none."""
    sites: dict[str, str] = {}
    with app.client() as client:
        for tenant in TENANTS:
            created = client.post(
                "/sites",
                json={"name": tenant, "domain": f"{tenant}.example"},
                headers=_auth(tenant),
            )
            assert created.status_code == 201
            sites[tenant] = created.json()["id"]

    expected: dict[str, str | None] = {}  # trace id -> tenant (None: unauthenticated)
    forwarded: list[tuple[str, str]] = []  # (tenant, baggage header the upstream received)
    failures: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            with app.client() as client:  # one keep-alive connection per thread
                for round_ in range(ROUNDS):
                    tenant = TENANTS[(index + round_) % len(TENANTS)]
                    kind = (index + round_) % 5
                    forged = {"baggage": "tenant.id=forged,user.id=mallory,plan=gold"}
                    if kind == 0:
                        response = client.get(f"/sites/{sites[tenant]}", headers=_auth(tenant))
                    elif kind == 1:
                        response = client.get(
                            f"/sites/{sites[tenant]}/status", headers={**_auth(tenant), **forged}
                        )
                    elif kind == 2:
                        response = client.post(
                            "/sites",
                            json={"name": "n", "domain": "d.example"},
                            headers={**_auth(tenant), **forged},
                        )
                    elif kind == 3:  # unauthenticated, after authenticated ones on this connection
                        response = client.get("/upstream/echo-headers")
                    else:  # a bad token through the sync dependency, on a reused pool thread
                        bad_token = {
                            "Authorization": "Bearer "
                            + make_token("u-x", "t-x", "not-the-secret" * 4)
                        }
                        response = client.get(f"/sites/{sites[tenant]}", headers=bad_token)
                    with lock:
                        if response.status_code != (
                            401 if kind == 4 else 200 if kind != 2 else 201
                        ):
                            failures.append(f"{response.status_code} {response.text[:200]}")
                            continue
                        trace_id = response.headers["x-request-id"]
                        expected[trace_id] = tenant if kind < 3 else None
                        if kind == 1:
                            upstream = response.json()["upstream"]["headers"]
                            forwarded.append((tenant, upstream.get("baggage", "")))
                        if kind == 3:
                            assert "baggage" not in response.json()["headers"]
        except Exception as exc:  # reported below, with the thread's failure
            with lock:
                failures.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    assert len(expected) == THREADS * ROUNDS

    for tenant, header in forwarded:
        entries = _baggage_of(header)
        assert entries.get("tenant.id") == tenant, header
        assert entries.get("user.id") == f"u-{tenant}", header
        assert entries.get("plan") == "gold", header

    capture.wait_for(
        lambda: {s.trace_id for s in capture.spans(kind="SERVER")} >= set(expected),
        timeout=30,
        message="server spans of every request",
    )
    capture.wait_for(  # one access-log record per request, at least
        lambda: {log.trace_id for log in capture.logs()} >= set(expected),
        timeout=30,
        message="log records of every request",
    )
    bad: list[str] = []
    for span in capture.spans():
        if span.trace_id not in expected:
            continue
        tenant = expected[span.trace_id]
        got = (span.attributes.get("tenant.id"), span.attributes.get("user.id"))
        want = (tenant, f"u-{tenant}") if tenant else (None, None)
        if got != want:
            bad.append(f"{span.name} {span.kind} {got} != {want}")
    for record in capture.logs():
        if record.trace_id in expected:
            tenant = expected[record.trace_id]
            got = (record.attributes.get("tenant.id"), record.attributes.get("user.id"))
            want = (tenant, f"u-{tenant}") if tenant else (None, None)
            if got != want:
                bad.append(f"log {record.body!r} {got} != {want}")
    assert not bad, bad[:10]
    assert b"forged" not in capture.raw_bytes()
    assert b"mallory" not in capture.raw_bytes()


def _raw_request(app: AppProcess, head: bytes) -> bytes:
    """Send raw bytes (header values httpx refuses to send); return the status line."""
    host, port = app.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0]


def test_hostile_headers_never_break_a_request(app: AppProcess, capture: OtlpCapture) -> None:
    """Malformed, duplicated, oversized and confusing headers: every request is served."""
    token = make_token("u-h", "t-h")
    cases: list[list[tuple[str, str]]] = [
        [("baggage", "a=1"), ("baggage", "tenant.id=x"), ("baggage", "b=2;prop=1;q")],
        [("baggage", "k=v;" + "p" * 9000)],
        [("baggage", "a=%ZZ,b=%00,c=%E2%28%A1,d=caf\u00e9")],
        [("baggage", ",".join(f"k{i}=v" for i in range(500)))],
        [("traceparent", "00-" + "f" * 32 + "-" + "f" * 16 + "-ff-extra" * 50)],
        [("traceparent", "zz-not-a-trace"), ("tracestate", "a=" + "b" * 8000)],
        [("traceparent", "00-00000000000000000000000000000000-0000000000000000-01")],
        [("x-request-id", "\u2603" * 40), ("x-request-id", "second")],
        [("x-request-id", "r" * 20000)],
        [("authorization", f"bearer   {token}")],
        [("authorization", f"Bearer {token}"), ("authorization", "Bearer garbage")],
        [("authorization", "Bearer " + "a" * 9000)],
        [("authorization", "Bearer a.b.c")],
        [("authorization", "Basic dXNlcjpwYXNz")],
        [("authorization", "Bearer")],
    ]
    with app.client() as client:
        for headers in cases:
            response = client.get(
                "/upstream/echo-headers",
                headers=httpx.Headers([(k, v.encode()) for k, v in headers]),
            )
            assert response.status_code == 200, (headers, response.text[:200])
    raw = [
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\rb\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: \xff\xfe\x00\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nbaggage: tenant.id=\x01\x7f\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xff\r\n\r\n",
    ]
    for head in raw:
        status = _raw_request(app, head)
        assert not status.startswith(b"HTTP/1.1 5"), (head, status)
    assert app.client().get("/health").status_code == 200  # still serving


def test_misconfiguration_is_reported_once_and_the_app_serves(
    otlp_capture: OtlpCapture, tmp_path: Path
) -> None:
    """Bad sampler, OTLP headers, JWT key, SDK limits, batch sizes and id generator: one line
    naming each variable, the request served and its telemetry exported."""
    not_a_pem = tmp_path / "key.pem"
    not_a_pem.write_text("this is not a PEM key\n")
    env = {
        "OTEL_TRACES_SAMPLER": "bogus",
        "OTEL_EXPORTER_OTLP_HEADERS": "garbage",
        "OTEL_DISTRO_JWT_PUBLIC_KEY": str(not_a_pem),
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-3",  # the SDK raises at import on this
        "OTEL_BLRP_MAX_QUEUE_SIZE": "0",  # and on this, at setup
        "OTEL_PYTHON_ID_GENERATOR": "bogus",  # and on this
    }
    with launch_app(capture=otlp_capture, env=env) as app:
        response = app.client().get("/upstream/echo-headers", headers=_auth("t-1"))
        assert response.status_code == 200
        trace_id = response.headers["x-request-id"]
        otlp_capture.wait_for(lambda: otlp_capture.spans(trace_id=trace_id, kind="SERVER"))
        otlp_capture.wait_for(lambda: otlp_capture.logs(trace_id=trace_id))
        app.stop()
        stderr = app.stderr_text()
    lines = [line for line in stderr.splitlines() if line.strip()]
    for name in env:
        naming = [line for line in lines if f"{name}=" in line]
        assert len(naming) == 1, stderr
    assert "garbage" not in stderr  # header values may be credentials: never echoed
    assert "Traceback" not in stderr
    assert len(lines) == len(env), stderr
