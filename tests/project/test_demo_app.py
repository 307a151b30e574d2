"""The panel demo app in-process (no SDK, no server): auth, tenancy and the test endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from examples.panel import app as panel
from examples.panel.tokens import DEFAULT_SECRET, make_token


class RecordingLogger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def _log(self, level: str) -> Any:
        return lambda event, **fields: self.records.append((level, event, fields))

    def __getattr__(self, level: str) -> Any:
        return self._log(level)


@pytest.fixture
def tenants(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Calls the app made to ``set_tenant``."""
    calls: list[dict[str, str]] = []
    monkeypatch.setattr(panel, "set_tenant", lambda **kwargs: calls.append(kwargs))
    return calls


@pytest.fixture
def logger(monkeypatch: pytest.MonkeyPatch) -> RecordingLogger:
    recorder = RecordingLogger()
    monkeypatch.setattr(panel, "logger", recorder)
    return recorder


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.delenv("PANEL_JWT_SECRET", raising=False)
    transport = httpx.ASGITransport(app=panel.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://panel.test") as test_client:
        yield test_client


def auth(user: str, tenant: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, tenant, **kwargs)}"}


async def test_health(client: httpx.AsyncClient) -> None:
    """/health answers without a token."""
    assert (await client.get("/health")).json() == {"status": "ok"}


def test_tokens_carry_user_and_tenant() -> None:
    """make_token signs sub and team_id with HS256 and the demo secret."""
    claims = jwt.decode(make_token("u-9", "team-z"), DEFAULT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["team_id"]) == ("u-9", "team-z")
    assert claims["exp"] > claims["iat"]


async def test_create_and_read_set_the_tenant_from_the_token(
    client: httpx.AsyncClient, tenants: list[dict[str, str]], logger: RecordingLogger
) -> None:
    """Both the async (create) and the sync (read) dependency call set_tenant with the claims."""
    created = await client.post(
        "/sites", json={"name": "Blog", "domain": "b.example"}, headers=auth("u-1", "team-a")
    )
    read = await client.get(f"/sites/{created.json()['id']}", headers=auth("u-1", "team-a"))

    assert created.status_code == 201
    assert (
        read.json()
        == created.json()
        == {"id": created.json()["id"], "name": "Blog", "domain": "b.example"}
    )
    assert tenants == [{"tenant_id": "team-a", "user_id": "u-1"}] * 2
    assert (
        "info",
        "site_created",
        {"site_id": created.json()["id"], "site_name": "Blog"},
    ) in logger.records


async def test_sites_are_private_to_their_tenant(
    client: httpx.AsyncClient, tenants: list[dict[str, str]]
) -> None:
    """Another tenant gets 404 for a site it does not own."""
    body = {"name": "A", "domain": "a.example"}
    site = (await client.post("/sites", json=body, headers=auth("u-1", "team-a"))).json()

    other = auth("u-2", "team-b")
    assert (await client.get(f"/sites/{site['id']}", headers=other)).status_code == 404
    assert (await client.get(f"/sites/{site['id']}/status", headers=other)).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Bearer {make_token('u-1', 'team-a', expires_in=-60)}"},
        auth("u-1", "team-a", secret="another-secret-of-32-bytes-or-more"),
    ],
    ids=["missing", "garbage", "expired", "wrong-secret"],
)
async def test_bad_tokens_are_rejected_without_a_tenant(
    client: httpx.AsyncClient, tenants: list[dict[str, str]], headers: dict[str, str]
) -> None:
    """Missing, malformed, expired or foreign tokens get 401 and never set a tenant."""
    for response in (
        await client.get("/sites/site-1", headers=headers),
        await client.post("/sites", json={"name": "x", "domain": "x"}, headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert tenants == []


async def test_jwt_secret_comes_from_the_environment(
    client: httpx.AsyncClient, tenants: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PANEL_JWT_SECRET replaces the demo secret."""
    monkeypatch.setenv("PANEL_JWT_SECRET", "a-configured-secret-of-32-bytes-at-least")

    assert (await client.get("/sites/nope", headers=auth("u-1", "t"))).status_code == 401
    configured = auth("u-1", "t", secret="a-configured-secret-of-32-bytes-at-least")
    assert (await client.get("/sites/nope", headers=configured)).status_code == 404


async def test_echo_headers_returns_what_it_received(client: httpx.AsyncClient) -> None:
    """/upstream/echo-headers answers with the request's headers."""
    response = await client.get(
        "/upstream/echo-headers", headers={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    )

    assert response.json()["headers"]["traceparent"].startswith("00-111")


async def test_boom_raises_with_the_query_in_the_message(client: httpx.AsyncClient) -> None:
    """/boom fails with an exception whose message carries request data."""
    with pytest.raises(RuntimeError, match="api_key=k-123"):
        await client.get("/boom?api_key=k-123")


async def test_echo_log_logs_the_body_fields(
    client: httpx.AsyncClient, logger: RecordingLogger
) -> None:
    """An object body's keys become log fields; any other JSON is logged as ``payload``."""
    await client.post("/echo-log", json={"user": "bob", "password": "p@ss"})
    await client.post("/echo-log", json=["a", 1])

    assert logger.records == [
        ("info", "echo_log", {"user": "bob", "password": "p@ss"}),
        ("info", "echo_log", {"payload": ["a", 1]}),
    ]
