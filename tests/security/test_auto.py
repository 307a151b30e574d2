"""Automatic 401/403 detection and the bearer-token check's anomalies, in-process."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from otel_distro.security import VIOLATION_COUNTER, log_auth_violation
from tests.security.conftest import Harness

pytestmark = pytest.mark.usefixtures("clean_logging_state")

VIOLATION = "otel_distro.security.violation"
SECRET = "security-test-secret-of-32-bytes-or-more"


def _status(code: int) -> Callable[[Request], Response]:
    def route(request: Request) -> Response:
        return PlainTextResponse("no", status_code=code)

    return route


def _types(harness: Harness) -> list[str]:
    return [p[0][VIOLATION] for p in harness.points(VIOLATION_COUNTER) for _ in range(p[1])]


@pytest.mark.parametrize("code", [401, 403])
async def test_a_bare_401_or_403_becomes_an_event(
    security: Callable[..., Harness], code: int
) -> None:
    """A 401/403 with no explicit event gives ``http_<status>`` on all three signals."""
    harness = security()
    async with harness.client(Route("/x", _status(code))) as client:
        await client.get("/x")
    (server,) = harness.server_spans()
    assert server.attributes is not None and server.attributes[VIOLATION] == f"http_{code}"
    assert [e.name for e in server.events] == ["security.violation"]
    (record,) = harness.records("auth_violation")
    assert record.trace_id == server.context.trace_id
    assert _types(harness) == [f"http_{code}"]


async def test_other_statuses_give_no_event(security: Callable[..., Harness]) -> None:
    """200, 404 and 500 answers are not security events."""
    harness = security()
    routes = [Route(f"/{c}", _status(c)) for c in (200, 404, 500)]
    async with harness.client(*routes) as client:
        for code in (200, 404, 500):
            await client.get(f"/{code}")
    assert harness.records("auth_violation") == [] and _types(harness) == []


async def test_explicit_event_is_not_counted_twice(security: Callable[..., Harness]) -> None:
    """An app that logs its 403 itself gets its own event only, not an extra ``http_403``."""
    harness = security()

    def route(request: Request) -> Response:
        log_auth_violation(request, violation="missing_permission", http_status=403)
        return Response(status_code=403)

    async with harness.client(Route("/x", route)) as client:
        await client.get("/x")
    assert _types(harness) == ["missing_permission"]
    assert len(harness.records("auth_violation")) == 1


async def test_explicit_event_from_a_threadpool_is_not_counted_twice(
    security: Callable[..., Harness],
) -> None:
    """An event logged in a worker thread (a sync dependency) still suppresses the automatic one."""
    import anyio.to_thread

    harness = security()

    async def route(request: Request) -> Response:
        await anyio.to_thread.run_sync(
            lambda: log_auth_violation(violation="missing_role", http_status=403)
        )
        return Response(status_code=403)

    async with harness.client(Route("/x", route)) as client:
        await client.get("/x")
    assert _types(harness) == ["missing_role"]


async def test_automatic_detection_can_be_switched_off(security: Callable[..., Harness]) -> None:
    """``OTEL_DISTRO_SECURITY_AUTO=false``: a bare 403 is no event."""
    harness = security(OTEL_DISTRO_SECURITY_AUTO="false")
    async with harness.client(Route("/x", _status(403))) as client:
        await client.get("/x")
    assert _types(harness) == []


def _token(claims: dict[str, object], secret: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def _unsigned() -> str:
    return jwt.encode({"sub": "u", "team_id": "t"}, None, algorithm="none")


def _now() -> int:
    return int(time.time())  # read when a token is made, not at import (the suite is long)


_OTHER = "another-secret-of-32-bytes-or-more!"
TOKENS: dict[str, Callable[[], str]] = {
    "token_bad_signature": lambda: _token({"sub": "u"}, secret=_OTHER),
    "token_expired": lambda: _token({"sub": "u", "exp": _now() - 600}),
    "token_not_yet_valid": lambda: _token({"sub": "u", "nbf": _now() + 600, "exp": _now() + 900}),
    "token_alg_none": _unsigned,
    "token_algorithm_not_allowed": lambda: _token({"sub": "u"}, alg="HS512"),
    "token_malformed": lambda: "not-a-jwt",
    "token_wrong_audience_or_issuer": lambda: _token({"sub": "u", "aud": "x", "exp": _now() + 60}),
    "token_missing_exp": lambda: _token({"sub": "u", "aud": "panel"}),
}  # fmt: skip


@pytest.mark.parametrize("violation", sorted(TOKENS))
async def test_each_token_anomaly_is_its_own_event_without_the_token(
    security: Callable[..., Harness], violation: str
) -> None:
    """Each rejection reason is a ``token_<reason>`` event; no part of the token is anywhere."""
    harness = security(
        OTEL_DISTRO_JWT_SECRET=SECRET,
        OTEL_DISTRO_JWT_AUDIENCE="panel",
        OTEL_DISTRO_JWT_REQUIRE_EXP="true",
    )
    token = TOKENS[violation]()
    async with harness.client(Route("/public", _status(200))) as client:
        await client.get("/public", headers={"Authorization": f"Bearer {token}"})
    assert _types(harness) == [violation]
    (record,) = harness.records("token_anomaly")
    (server,) = harness.server_spans()
    seen = repr([(e.name, e.attributes) for e in server.events]) + repr(record.attributes)
    seen += repr(server.attributes.get(VIOLATION) if server.attributes else None)
    for part in {p for p in token.split(".") if len(p) >= 8} | {token}:
        assert part not in seen


async def test_token_anomaly_answered_401_is_counted_once(
    security: Callable[..., Harness],
) -> None:
    """A rejected token whose request the app answers 401 is one event, not two."""
    harness = security(OTEL_DISTRO_JWT_SECRET=SECRET)
    async with harness.client(Route("/me", _status(401))) as client:
        await client.get("/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert _types(harness) == ["token_malformed"]


async def test_exp_is_optional_unless_required(security: Callable[..., Harness]) -> None:
    """Without ``OTEL_DISTRO_JWT_REQUIRE_EXP`` a token with no ``exp`` is accepted."""
    harness = security(OTEL_DISTRO_JWT_SECRET=SECRET)
    async with harness.client(Route("/me", _status(200))) as client:
        await client.get("/me", headers={"Authorization": f"Bearer {_token({'sub': 'u'})}"})
    assert _types(harness) == []


@pytest.mark.parametrize(
    ("claims", "violation"),
    [
        ({"sub": "u", "iss": "https://elsewhere.example"}, "token_wrong_audience_or_issuer"),
        ({"sub": "u"}, "token_missing_claim"),
    ],
    ids=["wrong-issuer", "no-issuer"],
)
async def test_the_issuer_is_checked_when_configured(
    security: Callable[..., Harness], claims: dict[str, object], violation: str
) -> None:
    """With ``OTEL_DISTRO_JWT_ISSUER`` a token of another issuer is
    ``token_wrong_audience_or_issuer``, one with no ``iss`` ``token_missing_claim``."""
    harness = security(OTEL_DISTRO_JWT_SECRET=SECRET, OTEL_DISTRO_JWT_ISSUER="https://panel")
    async with harness.client(Route("/me", _status(200))) as client:
        await client.get("/me", headers={"Authorization": f"Bearer {_token(claims)}"})
    assert _types(harness) == [violation]
