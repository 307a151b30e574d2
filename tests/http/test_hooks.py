"""Outbound httpx calls become one log record each; bodies only when enabled, bounded."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.httpx import RequestInfo, ResponseInfo

from otel_distro.config import reset_settings
from otel_distro.http._hooks import response_hook


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "EXTERNAL_HTTP_ENABLE_BODY_LOGGING",
        "EXTERNAL_HTTP_MAX_BODY_BYTES",
        "ENVIRONMENT",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_settings()


class Span:
    start_time = None


def call(body: bytes | None, status: int = 200) -> list[tuple[str, str, dict[str, Any]]]:
    records: list[tuple[str, str, dict[str, Any]]] = []
    stream = httpx.ByteStream(body) if body is not None else None
    request = RequestInfo(b"POST", httpx.URL("https://u:p@api.example/v1?x=1"), None, stream, {})
    response = ResponseInfo(status, None, httpx.ByteStream(b""), {})
    response_hook(Span(), request, response, emit=lambda *args: records.append(args))
    return records


def test_one_record_per_call_without_body_by_default() -> None:
    [(level, event, fields)] = call(b'{"a": 1}')
    assert (level, event) == ("info", "external_http_call")
    assert fields["http.request.method"] == "POST"
    assert fields["http.response.status_code"] == 200
    assert fields["url.full"].startswith("https://")
    assert "http.request.body" not in fields


def test_level_follows_status_class() -> None:
    assert call(None, 404)[0][0] == "warning"
    assert call(None, 503)[0][0] == "error"


def test_body_logging_is_opt_in_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTERNAL_HTTP_ENABLE_BODY_LOGGING", "true")
    monkeypatch.setenv("EXTERNAL_HTTP_MAX_BODY_BYTES", "8")
    reset_settings()
    fields = call(b"0123456789abcdef")[0][2]
    assert fields["http.request.body"] == "01234567...[truncated]"


@pytest.mark.usefixtures("production_mode")
def test_a_broken_request_never_raises() -> None:
    """Objects the hook cannot read produce no event and no exception (production)."""
    records: list[Any] = []
    response_hook(object(), object(), object(), emit=lambda *args: records.append(args))
    assert records == []


def test_production_ignores_the_body_flag_for_plain_clients_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ENVIRONMENT=production: the instrumentor hook logs no body whatever the flag says."""
    monkeypatch.setenv("EXTERNAL_HTTP_ENABLE_BODY_LOGGING", "true")
    monkeypatch.setenv("ENVIRONMENT", "production")
    reset_settings()
    fields = call(b'{"note": "' + secrets.token_hex(8).encode() + b'"}')[0][2]
    assert "http.request.body" not in fields
