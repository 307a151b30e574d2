"""Retries: opt-in, idempotent calls only, jittered backoff, bounded Retry-After, all visible."""

from __future__ import annotations

import asyncio
import secrets
import socket
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from otel_distro.http import create_external_async_client, create_external_client
from otel_distro.http._retry import RetryPolicy, retry_after_seconds
from tests.http.conftest import Telemetry
from tests.support import AppProcess

FAST = {"retry_backoff": 0.001, "retry_max_backoff": 0.002}


def key() -> str:
    return secrets.token_hex(8)


def seen(third_party: AppProcess, name: str) -> int:
    with httpx.Client(base_url=third_party.base_url) as probe:
        return int(probe.get(f"/seen/{name}").json()["requests"])


def attempt_events(telemetry: Telemetry) -> list[dict[str, Any]]:
    [span] = telemetry.spans()
    return [dict(event.attributes or {}) for event in span.events if event.name == "http.attempt"]


def record(telemetry: Telemetry) -> tuple[str, dict[str, Any]]:
    [(level, _, fields)] = telemetry.records
    return level, fields


def test_an_idempotent_call_is_retried_until_it_succeeds(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """GET answered 503 twice, then 200: three attempts as events, totals on span and record."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=2, **FAST, **telemetry.providers
    ) as client:
        response = client.get(f"/flaky/{name}", params={"fail": "2"})
    assert response.status_code == 200
    assert seen(third_party, name) == 3
    events = attempt_events(telemetry)
    assert [e["outcome"] for e in events] == ["503", "503", "200"]
    assert [e["http.request.attempt"] for e in events] == [1, 2, 3]
    assert "retry.delay_s" in events[0] and "retry.delay_s" not in events[2]
    [span] = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert (attributes["otel_distro.http.attempts"], attributes["http.request.resend_count"]) == (
        3,
        2,
    )
    level, fields = record(telemetry)
    assert (level, fields["attempts"], fields["http.response.status_code"]) == ("info", 3, 200)


def test_retries_are_off_unless_asked_for(third_party: AppProcess, telemetry: Telemetry) -> None:
    """Without retries=N a 503 is returned after one attempt."""
    name = key()
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        assert client.get(f"/flaky/{name}").status_code == 503
    assert seen(third_party, name) == 1


def test_post_is_not_retried_by_default(third_party: AppProcess, telemetry: Telemetry) -> None:
    """A non-idempotent call is sent once even with retries configured."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=3, **FAST, **telemetry.providers
    ) as client:
        assert client.post(f"/flaky/{name}", json={"amount": 1}).status_code == 503
    assert seen(third_party, name) == 1
    assert record(telemetry)[1]["attempts"] == 1


def test_an_idempotency_key_makes_post_retryable(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """The caller says a POST is safe to repeat with an Idempotency-Key header."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=2, **FAST, **telemetry.providers
    ) as client:
        response = client.post(
            f"/flaky/{name}", json={"amount": 1}, headers={"Idempotency-Key": key()}
        )
    assert response.json() == {"attempts": 2}


def test_retry_methods_opts_other_methods_in(third_party: AppProcess, telemetry: Telemetry) -> None:
    """retry_methods replaces the idempotent set."""
    name = key()
    with create_external_client(
        "billing",
        third_party.base_url,
        retries=1,
        retry_methods=["post"],
        **FAST,
        **telemetry.providers,
    ) as client:
        assert client.post(f"/flaky/{name}").status_code == 200
        other = key()
        assert client.get(f"/flaky/{other}").status_code == 503  # GET is no longer listed
    assert seen(third_party, other) == 1


@pytest.mark.parametrize("code", [400, 401, 404, 409, 500, 501])
def test_answers_that_will_not_change_are_not_retried(
    third_party: AppProcess, telemetry: Telemetry, code: int
) -> None:
    """Only 408, 429, 502, 503 and 504 are retried."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=2, **FAST, **telemetry.providers
    ) as client:
        assert client.get(f"/flaky/{name}", params={"code": str(code)}).status_code == code
    assert seen(third_party, name) == 1


def test_retry_after_is_honoured_and_capped(third_party: AppProcess, telemetry: Telemetry) -> None:
    """A 429 with Retry-After: 120 waits max_retry_after, not two minutes."""
    name = key()
    with create_external_client(
        "billing",
        third_party.base_url,
        retries=1,
        max_retry_after=0.05,
        retry_backoff=5.0,
        **telemetry.providers,
    ) as client:
        response = client.get(f"/flaky/{name}", params={"code": "429", "retry_after": "120"})
    assert response.status_code == 200
    assert attempt_events(telemetry)[0]["retry.delay_s"] == 0.05


def test_retry_after_replaces_the_backoff(third_party: AppProcess, telemetry: Telemetry) -> None:
    """Retry-After: 0 means retry now, whatever the backoff would have been."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=1, retry_backoff=5.0, **telemetry.providers
    ) as client:
        client.get(f"/flaky/{name}", params={"retry_after": "0"})
    assert attempt_events(telemetry)[0]["retry.delay_s"] == 0.0


def test_exhausted_retries_return_the_last_answer(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """retries=2 against a dead service: three attempts, the 503 returned, an error record."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=2, **FAST, **telemetry.providers
    ) as client:
        assert client.get(f"/flaky/{name}", params={"fail": "9"}).status_code == 503
    assert seen(third_party, name) == 3
    level, fields = record(telemetry)
    assert (level, fields["attempts"], fields["error.type"]) == ("error", 3, "503")
    failures = {
        p.attributes["error.type"]: p.value
        for p in telemetry.points("otel_distro.external_http.failures")
    }
    assert failures == {"5xx": 3}


def test_connect_errors_are_retried_then_raised(telemetry: Telemetry) -> None:
    """A refused connection is tried retries+1 times and the last error reaches the app."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        create_external_client(
            "billing", f"http://127.0.0.1:{port}", retries=2, **FAST, **telemetry.providers
        ) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get("/x")
    assert [e["outcome"] for e in attempt_events(telemetry)] == ["connect"] * 3
    assert record(telemetry)[1]["attempts"] == 3


def test_a_streamed_request_body_is_never_sent_twice(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """A generator body cannot be replayed, so the call is not retried."""
    name = key()
    with create_external_client(
        "billing", third_party.base_url, retries=2, **FAST, **telemetry.providers
    ) as client:
        response = client.put(f"/flaky/{name}", content=iter([b"a", b"b"]))
    assert response.status_code == 503
    assert seen(third_party, name) == 1


def test_the_async_client_retries_too(third_party: AppProcess, telemetry: Telemetry) -> None:
    """The async twin follows the same policy."""
    name = key()

    async def main() -> int:
        async with create_external_async_client(
            "billing", third_party.base_url, retries=1, **FAST, **telemetry.providers
        ) as client:
            return (await client.get(f"/flaky/{name}")).status_code

    assert asyncio.run(main()) == 200
    assert [e["outcome"] for e in attempt_events(telemetry)] == ["503", "200"]


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    """Each wait is in [ceiling/2, ceiling], the ceiling doubles up to max_backoff."""
    policy = RetryPolicy.build(5, None, None, 0.1, 0.8, 30)
    for attempt, ceiling in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 0.8)):
        delays = [policy.delay(attempt, None) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered, not one fixed value


def test_retry_after_accepts_seconds_and_http_dates_and_ignores_garbage() -> None:
    """delay-seconds and IMF dates are read; anything else falls back to the backoff."""
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    for garbage in ("", "-1", "soon", "9" * 40, "1.5", None):
        assert retry_after_seconds(garbage) is None


def test_pool_timeouts_are_not_retried() -> None:
    """The connection pool limit is local: trying again only makes the queue longer."""
    policy = RetryPolicy.build(2, None, None, 0.1, 1, 1)
    request = httpx.Request("GET", "http://x")
    assert not policy.retries_error(httpx.PoolTimeout("full", request=request))
    assert policy.retries_error(httpx.ReadTimeout("slow", request=request))


@pytest.mark.parametrize(
    "arguments",
    [{"retries": -1}, {"retries": 11}, {"retries": True}, {"retry_backoff": -1}],
)
def test_bad_retry_arguments_are_value_errors(arguments: dict[str, Any]) -> None:
    """A retry setting out of range is refused at construction, naming it."""
    with pytest.raises(ValueError, match=next(iter(arguments))):
        create_external_client("billing", "https://api.example.com", **arguments)


def test_read_timeouts_of_idempotent_calls_are_retried(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """A GET that times out is tried again; the last timeout reaches the app."""
    with (
        create_external_client(
            "billing", third_party.base_url, timeout=0.1, retries=1, **FAST, **telemetry.providers
        ) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/slow", params={"seconds": "2"})
    assert [e["outcome"] for e in attempt_events(telemetry)] == ["timeout", "timeout"]
    level, fields = record(telemetry)
    assert (level, fields["error.type"], fields["attempts"]) == ("error", "ReadTimeout", 2)
