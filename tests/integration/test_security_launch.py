"""Security events through real ``opentelemetry-instrument uvicorn`` launches.

One app (``tests/integration/security_app.py``) serves every test of a launch; each test
uses its own route or its own client address, so counters and records never mix.
uvicorn runs with ``--no-proxy-headers``: otherwise it rewrites the peer itself from
``X-Forwarded-For`` for 127.0.0.1 (its ``--forwarded-allow-ips`` default) before the
distro sees it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests.support import AppProcess, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

APP = "tests.integration.security_app:app"
JWT_SECRET = "security-launch-secret-of-32-bytes-or-more"
VIOLATION = "otel_distro.security.violation"
COUNTER = "otel_distro.security.violations"


def trace_id_of(response: httpx.Response) -> str:
    parts = str(response.headers.get("traceresponse", "")).split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return str(response.headers.get("x-request-id", ""))


def counts(capture: OtlpCapture, name: str = COUNTER) -> dict[tuple[Any, ...], int]:
    """The latest cumulative value of each attribute set of a counter."""
    latest: dict[tuple[Any, ...], int] = {}
    for point in capture.metrics(name=name):
        latest[tuple(sorted(point.attributes.items()))] = int(point.value or 0)
    return latest


def count_of(capture: OtlpCapture, **attributes: Any) -> int:
    wanted = set(attributes.items())
    return sum(v for k, v in counts(capture).items() if wanted <= set(k))


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[AppProcess, OtlpCapture]]:
    """The security app with token checks on, trusting no proxy."""
    env = {
        "OTEL_DISTRO_JWT_SECRET": JWT_SECRET,
        "OTEL_DISTRO_JWT_AUDIENCE": "panel",
        "OTEL_DISTRO_JWT_REQUIRE_EXP": "true",
        "OTEL_DISTRO_ABUSE_HOST_THRESHOLD": "1000",
        "OTEL_DISTRO_ABUSE_USER_THRESHOLD": "3",
        "OTEL_DISTRO_ABUSE_WINDOW_SECONDS": "3600",
    }
    with (
        OtlpCapture() as capture,
        launch_app(APP, env=env, capture=capture, extra_args=["--no-proxy-headers"]) as app,
    ):
        yield app, capture


def test_forbidden_request_gives_three_correlated_signals_without_planted_secrets(
    served: tuple[AppProcess, OtlpCapture],
) -> None:
    """A 403 route: span event, one WARNING record with the server span's trace id, a counter
    increment; secrets planted in a header, the query and extra fields appear nowhere."""
    app, capture = served
    header_secret, query_secret = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    response = app.client().get(
        f"/admin?secret={query_secret}", headers={"X-API-Key": header_secret}
    )
    assert response.status_code == 403
    trace_id = trace_id_of(response)
    (server,) = capture.wait_for(
        lambda: capture.spans(kind="SERVER", trace_id=trace_id), message="the server span"
    )
    assert server.attributes[VIOLATION] == "missing_permission"
    (event,) = [e for e in server.events if e.name == "security.violation"]
    assert event.attributes["http.route"] == "/admin"
    assert event.attributes["required"] == "sites:create"
    (record,) = capture.wait_for(
        lambda: capture.logs(body="auth_violation", trace_id=trace_id), message="the record"
    )
    assert record.severity_text == "WARN"
    assert record.attributes["tenant.id"] == "t-caller"
    assert record.attributes["client.address"] == "127.0.0.1"
    capture.wait_for(
        lambda: count_of(capture, **{VIOLATION: "missing_permission", "http.route": "/admin"}),
        message="the counter",
    )
    assert count_of(capture, **{VIOLATION: "missing_permission"}) == 1
    output = app.stdout_text() + app.stderr_text()
    raw = capture.raw_bytes().decode("utf-8", "replace")
    for secret in (header_secret, query_secret):
        assert secret not in raw and secret not in output


def test_bare_401_and_403_are_detected_and_explicit_ones_not_counted_twice(
    served: tuple[AppProcess, OtlpCapture],
) -> None:
    """Routes answering 401/403 silently get ``http_401``/``http_403``; an app that logs its
    own 403 (here from a threadpool endpoint) gets only its own event."""
    app, capture = served
    client = app.client()
    assert client.get("/silent-403").status_code == 403
    assert client.get("/silent-401").status_code == 401
    explicit = client.get("/admin-sync")
    assert explicit.status_code == 403
    capture.wait_for(
        lambda: (
            count_of(capture, **{"http.route": "/admin-sync"})
            and count_of(capture, **{VIOLATION: "http_401"})
            and count_of(capture, **{VIOLATION: "http_403"})
        ),
        message="the three counts",
    )
    assert count_of(capture, **{VIOLATION: "http_403", "http.route": "/silent-403"}) == 1
    assert count_of(capture, **{VIOLATION: "http_401", "http.route": "/silent-401"}) == 1
    assert count_of(capture, **{"http.route": "/admin-sync"}) == 1
    records = capture.logs(body="auth_violation", trace_id=trace_id_of(explicit))
    assert [r.attributes[VIOLATION] for r in records] == ["missing_role"]


def _token(claims: dict[str, Any], secret: str = JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def test_each_token_anomaly_is_a_typed_event_without_the_token(
    served: tuple[AppProcess, OtlpCapture],
) -> None:
    """Every rejection of the bearer-token check is ``token_<reason>``; no part of any token
    (each segment is random) reaches the telemetry or the output."""
    app, capture = served
    now = int(time.time())
    nonce = {"jti": secrets.token_hex(16)}
    tokens = {
        "token_bad_signature": _token(
            {"sub": "u", "aud": "panel", "exp": now + 60, **nonce}, secret="x" * 40
        ),
        "token_expired": _token({"sub": "u", "aud": "panel", "exp": now - 600, **nonce}),
        "token_not_yet_valid": _token(
            {"sub": "u", "aud": "panel", "nbf": now + 600, "exp": now + 900, **nonce}
        ),
        "token_alg_none": jwt.encode({"sub": "u", **nonce}, None, algorithm="none"),
        "token_algorithm_not_allowed": _token(
            {"sub": "u", "exp": now + 60, **nonce}, secret="y" * 64, alg="HS512"
        ),
        "token_malformed": f"{secrets.token_hex(8)}.{secrets.token_hex(8)}",
        "token_wrong_audience_or_issuer": _token(
            {"sub": "u", "aud": "x", "exp": now + 60, **nonce}
        ),
        "token_missing_exp": _token({"sub": "u", "aud": "panel", **nonce}),
    }
    client = app.client()
    traces = {}
    for violation, token in tokens.items():
        response = client.get("/public", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        traces[violation] = trace_id_of(response)

    def all_arrived() -> bool:
        return all(capture.logs(body="token_anomaly", trace_id=t) for t in traces.values())

    capture.wait_for(all_arrived, message="one token_anomaly record per token")
    for violation, trace_id in traces.items():
        (record,) = capture.logs(body="token_anomaly", trace_id=trace_id)
        assert record.attributes[VIOLATION] == violation
    capture.wait_for(lambda: count_of(capture, **{VIOLATION: "token_missing_exp"}))
    raw = capture.raw_bytes().decode("utf-8", "replace")
    output = app.stdout_text() + app.stderr_text()
    for token in tokens.values():
        for part in [p for p in token.split(".") if len(p) >= 12]:
            assert part not in raw and part not in output


def test_user_over_threshold_gives_one_abuse_signal(
    served: tuple[AppProcess, OtlpCapture],
) -> None:
    """Failed logins for one user past the threshold: exactly one ``abuse_signal_detected``."""
    app, capture = served
    user = f"user-{secrets.token_hex(4)}"
    client = app.client()
    traces = [trace_id_of(client.get(f"/login-failed?user={user}")) for _ in range(8)]
    capture.wait_for(
        lambda: all(capture.logs(body="auth_violation", trace_id=t) for t in traces),
        message="every violation record",
    )
    signals = [
        r for r in capture.logs(body="abuse_signal_detected") if r.attributes.get("user.id") == user
    ]
    assert len(signals) == 1
    assert signals[0].trace_id == traces[2]  # the third violation crossed the threshold of 3
    (server,) = capture.wait_for(
        lambda: capture.spans(kind="SERVER", trace_id=traces[2]), message="the crossing span"
    )
    assert [e.name for e in server.events] == ["security.violation", "abuse_signal_detected"]


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    served: tuple[AppProcess, OtlpCapture],
) -> None:
    """With no trusted proxies, ``X-Forwarded-For``/``Forwarded`` do not change the address."""
    app, capture = served
    response = app.client().get(
        "/silent-403", headers={"X-Forwarded-For": "203.0.113.77", "Forwarded": "for=198.51.100.1"}
    )
    trace_id = trace_id_of(response)
    (record,) = capture.wait_for(lambda: capture.logs(body="auth_violation", trace_id=trace_id))
    assert record.attributes["client.address"] == "127.0.0.1"


@pytest.fixture(scope="module")
def behind_proxy() -> Iterator[tuple[AppProcess, OtlpCapture]]:
    """The security app trusting 127.0.0.1 as its reverse proxy, host threshold 3."""
    env = {
        "OTEL_DISTRO_TRUSTED_PROXIES": "127.0.0.1/32",
        "OTEL_DISTRO_ABUSE_HOST_THRESHOLD": "3",
        "OTEL_DISTRO_ABUSE_WINDOW_SECONDS": "3600",
    }
    with (
        OtlpCapture() as capture,
        launch_app(APP, env=env, capture=capture, extra_args=["--no-proxy-headers"]) as app,
    ):
        yield app, capture


def test_behind_a_trusted_proxy_each_client_address_is_counted_once_per_window(
    behind_proxy: tuple[AppProcess, OtlpCapture],
) -> None:
    """The right-most untrusted hop is the address; one signal for the address over the
    threshold however many violations follow, none for the one under it."""
    app, capture = behind_proxy
    client = app.client()
    abuser, bystander = "203.0.113.5", "203.0.113.6"
    traces = []
    for _ in range(10):
        forwarded = f"6.6.6.6, {abuser}"  # the left-most hop is the client's own (spoofable)
        traces.append(
            trace_id_of(client.get("/silent-403", headers={"X-Forwarded-For": forwarded}))
        )
    for _ in range(2):
        traces.append(
            trace_id_of(client.get("/silent-401", headers={"X-Forwarded-For": bystander}))
        )
    capture.wait_for(
        lambda: all(capture.logs(body="auth_violation", trace_id=t) for t in traces),
        message="every violation record",
    )
    records = [capture.logs(body="auth_violation", trace_id=t)[0] for t in traces]
    assert {r.attributes["client.address"] for r in records} == {abuser, bystander}
    signals = capture.logs(body="abuse_signal_detected")
    assert [s.attributes["client.address"] for s in signals] == [abuser]
    assert signals[0].attributes["otel_distro.security.abuse.key_kind"] == "host"
    capture.wait_for(lambda: counts(capture, "otel_distro.security.abuse_signals"))
    assert list(counts(capture, "otel_distro.security.abuse_signals").values()) == [1]


@pytest.fixture(scope="module")
def short_window() -> Iterator[tuple[AppProcess, OtlpCapture]]:
    """The security app with a 5-second abuse window and a user threshold of 3."""
    env = {
        "OTEL_DISTRO_ABUSE_USER_THRESHOLD": "3",
        "OTEL_DISTRO_ABUSE_HOST_THRESHOLD": "1000",
        "OTEL_DISTRO_ABUSE_WINDOW_SECONDS": "5",
    }
    with OtlpCapture() as capture, launch_app(APP, env=env, capture=capture) as app:
        yield app, capture


def test_a_persistent_abuser_gives_one_signal_per_window(
    short_window: tuple[AppProcess, OtlpCapture],
) -> None:
    """Six failures at once give one signal; three more after the window has passed, another."""
    app, capture = short_window
    user = f"user-{secrets.token_hex(4)}"
    client = app.client()

    def fail(times: int) -> list[str]:
        return [trace_id_of(client.get(f"/login-failed?user={user}")) for _ in range(times)]

    def signals() -> list[Any]:
        found = capture.logs(body="abuse_signal_detected")
        return [r for r in found if r.attributes.get("user.id") == user]

    first = fail(6)
    capture.wait_for(
        lambda: all(capture.logs(body="auth_violation", trace_id=t) for t in first),
        message="every violation record (records arrive in order: the signal came before)",
    )
    assert len(signals()) == 1
    time.sleep(5.5)
    second = fail(3)
    capture.wait_for(lambda: len(signals()) == 2, message="the second window's signal")
    assert signals()[1].trace_id == second[2]


def test_tenant_violation_and_app_token_anomaly_through_a_launch(
    served: tuple[AppProcess, OtlpCapture],
) -> None:
    """``log_tenant_violation`` records both tenants on the record and the span event;
    ``log_token_anomaly("revoked_reuse")`` on a 401 is one ``token_revoked_reuse``, not two."""
    app, capture = served
    client = app.client()
    tenant = client.get("/tenant/42")
    revoked = client.get("/revoked")
    assert (tenant.status_code, revoked.status_code) == (404, 401)
    (record,) = capture.wait_for(
        lambda: capture.logs(body="tenant_violation", trace_id=trace_id_of(tenant)),
        message="the tenant_violation record",
    )
    assert record.attributes["tenant.id"] == "t-caller"
    assert record.attributes["otel_distro.security.resource_tenant"] == "t-9"
    assert record.attributes["otel_distro.security.resource"] == "site:42"
    (server,) = capture.wait_for(
        lambda: capture.spans(kind="SERVER", trace_id=trace_id_of(tenant)), message="the span"
    )
    (event,) = [e for e in server.events if e.name == "security.violation"]
    assert event.attributes["otel_distro.security.resource_tenant"] == "t-9"
    assert event.attributes["tenant.id"] == "t-caller"
    (anomaly,) = capture.wait_for(
        lambda: capture.logs(body="token_anomaly", trace_id=trace_id_of(revoked)),
        message="the token_anomaly record",
    )
    assert anomaly.attributes[VIOLATION] == "token_revoked_reuse"
    capture.wait_for(
        lambda: count_of(capture, **{VIOLATION: "token_revoked_reuse"}), message="the counter"
    )
    assert count_of(capture, **{"http.route": "/revoked"}) == 1
    assert capture.logs(body="auth_violation", trace_id=trace_id_of(revoked)) == []
