"""Body preview: opt-in, redacted, bounded, never in production, never consuming a stream."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otel_distro.http import create_external_client
from otel_distro.http._body import IGNORED_IN_PRODUCTION, response_preview
from tests.http.conftest import Telemetry, configure
from tests.support import AppProcess


def fields_of(telemetry: Telemetry) -> dict[str, Any]:
    [(_, _, fields)] = telemetry.records
    return fields


def planted() -> dict[str, str]:
    """A request with random secrets in userinfo, query, headers and the JSON body."""
    return {
        "user": secrets.token_hex(6),
        "password": secrets.token_hex(10),
        "query": secrets.token_hex(12),
        "header": secrets.token_urlsafe(20),
        "body": secrets.token_hex(12),
        "card": "4111111111111111",
    }


def call_with_secrets(third_party: AppProcess, telemetry: Telemetry, values: dict[str, str]) -> Any:
    base = third_party.base_url.replace("://", f"://{values['user']}:{values['password']}@")
    with create_external_client("billing", base, **telemetry.providers) as client:
        return client.post(
            "/echo",
            params={"access_token": values["query"]},
            headers={"Authorization": f"Bearer {values['header']}"},
            json={"amount": 1000, "password": values["body"], "card": values["card"]},
        )


def test_development_previews_both_bodies_with_every_secret_redacted(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the flag on, request and (already read) response bodies appear, secrets masked."""
    configure(monkeypatch, EXTERNAL_HTTP_ENABLE_BODY_LOGGING="true", ENVIRONMENT="development")
    values = planted()
    response = call_with_secrets(third_party, telemetry, values)
    assert values["body"] in response.json()["body"]  # the third party got the real body
    fields = fields_of(telemetry)
    assert '"amount":1000' in fields["http.request.body"].replace(" ", "")
    assert '"method"' in fields["http.response.body"]
    text = telemetry.everything()
    for secret in values.values():
        assert secret not in text


def test_production_never_logs_a_body_whatever_the_flag_says(
    third_party: AppProcess,
    telemetry: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ENVIRONMENT=production forces the preview off and says once that the flag was ignored."""
    configure(monkeypatch, EXTERNAL_HTTP_ENABLE_BODY_LOGGING="true", ENVIRONMENT="production")
    values = planted()
    call_with_secrets(third_party, telemetry, values)
    call_with_secrets(third_party, telemetry, values)
    for _, _, fields in telemetry.records:
        assert not [key for key in fields if key.endswith(".body")]
    assert capsys.readouterr().err.count(IGNORED_IN_PRODUCTION) == 1
    text = telemetry.everything()
    for secret in values.values():
        assert secret not in text


def test_no_body_is_logged_by_default(third_party: AppProcess, telemetry: Telemetry) -> None:
    """Without the flag, records carry no body at all."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        client.post("/echo", json={"amount": 1})
    assert not [key for key in fields_of(telemetry) if key.endswith(".body")]


def test_previews_are_cut_to_the_byte_limit(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both bodies are cut to EXTERNAL_HTTP_MAX_BODY_BYTES and marked as truncated."""
    configure(
        monkeypatch, EXTERNAL_HTTP_ENABLE_BODY_LOGGING="true", EXTERNAL_HTTP_MAX_BODY_BYTES="16"
    )
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        client.post("/echo", content=b"x " * 500, headers={"content-type": "text/plain"})
    fields = fields_of(telemetry)
    for key in ("http.request.body", "http.response.body"):
        assert fields[key].endswith("...[truncated]")
        assert len(fields[key]) <= 16 + len("...[truncated]")


def test_a_streamed_response_is_neither_read_nor_altered(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """client.stream(): the app reads every chunk itself; the record has no response body."""
    configure(monkeypatch, EXTERNAL_HTTP_ENABLE_BODY_LOGGING="true")
    with (
        create_external_client("billing", third_party.base_url, **telemetry.providers) as client,
        client.stream("GET", "/stream", params={"chunks": "50"}) as response,
    ):
        assert telemetry.records  # recorded when the headers arrived
        assert not response.is_stream_consumed
        text = "".join(response.iter_text())
    assert text == "".join(f"line {index}\n" for index in range(50))
    assert "http.response.body" not in fields_of(telemetry)


def test_a_streamed_request_body_is_sent_whole_and_not_previewed(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generator body goes to the third party intact; the preview skips it."""
    configure(monkeypatch, EXTERNAL_HTTP_ENABLE_BODY_LOGGING="true")
    secret = secrets.token_hex(16)

    def chunks() -> Iterator[bytes]:
        yield b"part one, "
        yield f"password={secret}".encode()

    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        response = client.post("/echo", content=chunks())
    assert response.json()["body"] == f"part one, password={secret}"
    assert "http.request.body" not in fields_of(telemetry)
    assert secret not in telemetry.everything().replace(response.text, "")


def test_only_read_textual_responses_are_previewed() -> None:
    """A binary type is skipped, and an unread response is never read for a preview."""
    binary = httpx.Response(200, content=b"%PDF-1.7", headers={"content-type": "application/pdf"})
    assert response_preview(binary, 1024) is None
    text = httpx.Response(
        200, content=b'{"ok": true}', headers={"content-type": "application/json"}
    )
    assert response_preview(text, 1024) == '{"ok": true}'
    unread = httpx.Response(
        200, stream=httpx.ByteStream(b"data"), headers={"content-type": "text/plain"}
    )
    assert response_preview(unread, 1024) is None
    assert not unread.is_stream_consumed
