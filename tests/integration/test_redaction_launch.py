"""Planted secrets through a real ``opentelemetry-instrument uvicorn`` launch.

Secrets go in the query string, headers (with header capture switched on for
everything), a path parameter, a JSON body that is logged, an exception
message, and an outbound httpx URL with credentials.  None may survive in the
OTLP export, stdout/stderr or the log file; ordinary values must.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from examples.panel.tokens import make_token
from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration

JWT_IN_PATH = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXRoLXNlY3JldC11c2VyIn0.c2lnbmF0dXJlLXBhdGgtc2VjcmV0LXZhbHVl"
)
SECRETS = {
    "query": "QUERYSECRETq1w2e3",
    "query_pwd": "PWDSECRETz9x8c7",
    "cookie": "COOKIESECRETa1b2c3",
    "api_key_header": "APIKEYSECRETd4e5f6",
    "body_password": "BODYSECRETg7h8i9",
    "body_card": "4111 1111 1111 1111",
    "free_text": "FREETEXTSECRETj1k2",
    "boom": "BOOMSECRETm3n4o5",
    "upstream_password": "UPSTREAMPASSp6q7",
    "upstream_token": "UPSTREAMTOKENr8s9",
    "jwt_path": JWT_IN_PATH,
}
BENIGN = ("token_count", "author", "4111111111111112", "ordinary-site-name")


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_no_planted_secret_survives_any_channel(otlp_capture: OtlpCapture, upstream: int) -> None:
    env = {
        "ENVIRONMENT": "production",
        "LOG_TO_FILE": "true",
        "LOG_DIR": "logs",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": ".*",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http/dup",
        "PANEL_UPSTREAM_URL": (
            f"http://svc:{SECRETS['upstream_password']}@127.0.0.1:{upstream}/status"
            f"?access_token={SECRETS['upstream_token']}&view=full"
        ),
    }
    token = make_token("u-1", "t-1")
    with launch_app(capture=otlp_capture, env=env) as app:
        client = app.client()
        headers = {
            "Authorization": f"Bearer {token}",
            "Cookie": f"session={SECRETS['cookie']}",
            "X-API-Key": SECRETS["api_key_header"],
        }
        created = client.post(
            f"/sites?token={SECRETS['query']}&password={SECRETS['query_pwd']}",
            json={"name": "ordinary-site-name", "domain": "site.example"},
            headers=headers,
        )
        assert created.status_code == 201
        site_id = created.json()["id"]
        assert client.get(f"/sites/{site_id}/status", headers=headers).status_code == 200
        assert client.get(f"/sites/{JWT_IN_PATH}", headers=headers).status_code == 404
        logged = client.post(
            "/echo-log",
            json={
                "password": SECRETS["body_password"],
                "card": SECRETS["body_card"],
                "note": f"retrying with api_key={SECRETS['free_text']}",
                "token_count": 12,
                "author": "someone",
                "order_number": "4111111111111112",
            },
        )
        assert logged.status_code == 200
        assert client.get(f"/boom?secret={SECRETS['boom']}").status_code == 500
        otlp_capture.wait_for(
            lambda: any(log.body == "echo_log" for log in otlp_capture.logs()),
            message="the echo_log record",
        )
        app.stop()
        outputs = {
            "otlp": otlp_capture.raw_bytes().decode("utf-8", "replace"),
            "stdout": app.stdout_text(),
            "stderr": app.stderr_text(),
            "log file": (app.workdir / "logs" / "app.log").read_text(),
        }
    for channel, text in outputs.items():
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked into {channel}"
        assert SECRETS["body_card"].replace(" ", "") not in text, channel
    for benign in BENIGN:
        assert benign in outputs["otlp"], benign
        assert benign in outputs["log file"], benign
    # the evidence that redaction ran, not that nothing was captured
    assert "REDACTED" in outputs["otlp"] and "REDACTED" in outputs["log file"]
    statuses = [s for s in otlp_capture.spans() if s.name == "GET /boom"]
    assert statuses and statuses[0].status_code == "ERROR"
    # the outbound call really carried the planted URL (redacted, query key kept)
    client_urls = [s.attributes.get("http.url", "") for s in otlp_capture.spans(kind="CLIENT")]
    assert any(
        "REDACTED:REDACTED@" in url and "access_token=REDACTED" in url and "view=full" in url
        for url in client_urls
    ), client_urls
    # captured sensitive headers are present as keys, masked as values
    calls = [log for log in otlp_capture.logs() if log.body == "external_http_call"]
    assert calls and "REDACTED:REDACTED@" in calls[0].attributes["url.full"]
    created_span = [s for s in otlp_capture.spans() if s.name == "POST /sites"][0]
    assert created_span.attributes["http.request.header.cookie"] in ("REDACTED", ["REDACTED"])
