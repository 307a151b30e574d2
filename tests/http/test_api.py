"""The public surface of ``otel_distro.http`` and the guarantees that hold without a server."""

from __future__ import annotations

import httpx
import pytest

import otel_distro.http
from otel_distro._report import RAISE_VARIABLE, internal_error_counts
from otel_distro.http import _hooks, create_external_client
from tests.http.conftest import Telemetry


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="fine")


def test_the_public_names_are_exactly_these() -> None:
    """Adding or removing a public name is a deliberate change."""
    assert sorted(otel_distro.http.__all__) == [
        "ExternalAsyncClient",
        "ExternalClient",
        "IDEMPOTENT_METHODS",
        "RETRY_STATUSES",
        "async_response_hook",
        "create_external_async_client",
        "create_external_client",
        "response_hook",
    ]


def test_a_failing_record_never_breaks_the_call(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If our own telemetry fails, the app still gets its response and the span still ends."""
    monkeypatch.delenv(RAISE_VARIABLE)

    def broken(*args: object) -> None:
        raise RuntimeError("logging is down")

    monkeypatch.setattr(_hooks, "_emit", broken)
    before = internal_error_counts().get("http.client.finish", 0)
    with create_external_client(
        "billing", "https://api.example.com", transport=httpx.MockTransport(ok),
        **telemetry.providers,
    ) as client:  # fmt: skip
        assert client.get("/v1/ping").text == "fine"
    assert internal_error_counts()["http.client.finish"] == before + 1
    assert len(telemetry.spans()) == 1


def test_unknown_methods_are_bounded_as_other(telemetry: Telemetry) -> None:
    """A custom method becomes _OTHER on span and metric (the original kept on the span)."""
    with create_external_client(
        "cdn", "https://cdn.example.com", transport=httpx.MockTransport(ok), **telemetry.providers
    ) as client:
        client.request("PURGE", "/assets/app.js")
    [span] = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert (attributes["http.request.method"], attributes["http.request.method_original"]) == (
        "_OTHER",
        "PURGE",
    )
    [point] = telemetry.points("http.client.request.duration")
    assert point.attributes["http.request.method"] == "_OTHER"
