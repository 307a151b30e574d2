"""Planted random secrets of the second corpus through a real instrumented launch.

OAuth/SAML query values, Referer values, path-segment tokens, vendor key headers,
``Authorization: ApiKey``, a connection string in ``OTEL_RESOURCE_ATTRIBUTES`` and
structured leaks in a logged body go through ``opentelemetry-instrument uvicorn``
with header capture and PII masking on; none may reach the OTLP export, stdout,
stderr or the log file, while a Chrome user agent and ordinary ids must.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from examples.panel.tokens import make_token
from tests.support import OtlpCapture, launch_app

from ._plant import alnum, b64, digits, hexs, mixed, urlsafe

pytestmark = pytest.mark.integration


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
    """A local HTTP server the app calls out to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_second_corpus_never_leaks(otlp_capture: OtlpCapture, upstream: int) -> None:
    """Every planted value is redacted in every channel; benign look-alikes stay."""
    s = {
        "code": urlsafe(),
        "state": alnum(24),
        "saml": b64(48).rstrip("="),
        "relay": alnum(20),
        "ref_code": urlsafe(),
        "reset": urlsafe(24),
        "hook": alnum(24),
        "functions_key": urlsafe(),
        "apim": alnum(32),
        "honeycomb": alnum(22),
        "apikey_auth": urlsafe(),
        "azure": b64(32).rstrip("="),
        "redis_pw": mixed(14),
        "session_key": urlsafe(32),
        "openai": "sk-proj-" + alnum(48),
        "google": "AIza" + alnum(35),
        "fernet": base64.urlsafe_b64encode(bytes(alnum(32), "ascii")).decode(),
        "jwk_d": urlsafe(24),
        "sql_pw": alnum(16),
        "b64_pw": alnum(18),
        "out_hook": alnum(24),
        "out_code": urlsafe(),
        "pattern_ok": alnum(18),
        "pattern_bad": alnum(18),
        # found by a red-team corpus: raw ``#`` in a DSN password, form fields, prefixes
        "dsn_hash": f"{alnum(6)}#{alnum(6)}",
        "csrf": alnum(64),
        "multipart_pw": mixed(14),
        "prefixed": alnum(28),
        "session_hex": hexs(40),
        "quoted": alnum(32),
        "env_pw": alnum(24),
        "netrc": alnum(10),
        "mysql": alnum(12),
    }
    otp = int(digits(6))
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0.0.0 Safari/537.36"
    env = {
        "ENVIRONMENT": "production",
        "LOG_TO_FILE": "true",
        "LOG_DIR": "logs",
        "OTEL_DISTRO_REDACT_PII": "true",
        # a rejected pattern list: the start-up message must not echo the literals
        "OTEL_DISTRO_REDACT_VALUES": f"{s['pattern_ok']},({s['pattern_bad']}",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": ".*",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http/dup",
        "PANEL_UPSTREAM_URL": (
            f"http://127.0.0.1:{upstream}/services/T{digits(8)}/B{digits(8)}/{s['out_hook']}"
            f"?code={s['out_code']}&view=full"
        ),
        "OTEL_RESOURCE_ATTRIBUTES": (
            "deployment.region=eu,azure.bus=Endpoint=sb://acme.servicebus.windows.net/;"
            f"SharedAccessKeyName=root;SharedAccessKey={s['azure']}"
        ),
    }
    payload_b64 = base64.b64encode(json.dumps({"password": s["b64_pw"]}).encode()).decode()
    with launch_app(capture=otlp_capture, env=env) as app:
        client = app.client()
        headers = {
            "Referer": f"https://idp.example/cb/reset/{s['reset']}?code={s['ref_code']}",
            "X-Functions-Key": s["functions_key"],
            "Ocp-Apim-Subscription-Key": s["apim"],
            "X-Honeycomb-Team": s["honeycomb"],
            "User-Agent": chrome,
        }
        client.get(
            f"/reset/{s['reset']}?code={s['code']}&state={s['state']}"
            f"&SAMLResponse={s['saml']}&RelayState={s['relay']}",
            headers=headers,
        )
        client.get(f"/hooks/{digits(10)}/{s['hook']}", headers=headers)
        client.get(f"/api/sessions/{s['session_hex']}/refresh", headers=headers)
        auth = {"Authorization": f"Bearer {make_token('u-1', 't-1')}"}
        created = client.post("/sites", json={"name": "n", "domain": "d.example"}, headers=auth)
        assert created.status_code == 201
        status = client.get(f"/sites/{created.json()['id']}/status", headers=auth)
        assert status.status_code == 200
        client.get("/health", headers={**headers, "Authorization": f"ApiKey {s['apikey_auth']}"})
        logged = client.post(
            "/echo-log",
            json={
                "argv": ["redis-cli", "-a", s["redis_pw"], "ping"],
                "sessions": {s["session_key"]: "u-1"},
                "verification": {"code": otp},
                "vendor": f"calling with {s['openai']} and key {s['google']}",
                "env": {"FERNET_KEY": s["fernet"], "PWD": "/srv/app"},
                "jwk": {"kty": "RSA", "n": "pub", "e": "AQAB", "d": s["jwk_d"]},
                "sql": f"ALTER USER app IDENTIFIED BY '{s['sql_pw']}'",
                "blob": payload_b64,
                "order_id": "ORD-2024-0001",
                "dsn": f"mysql+pymysql://app:{s['dsn_hash']}@db.internal:3306/main",
                "html": f'<input type="hidden" name="csrfmiddlewaretoken" value="{s["csrf"]}">',
                "form": 'form-data; name="password"\r\n\r\n' + s["multipart_pw"] + "\r\n--b--",
                "issued": f"token issued tok_{s['prefixed']}",
                "error": f"invalid token '{s['quoted']}'",
                "pod": {"env": [{"name": "DB_PASSWORD", "value": s["env_pw"]}]},
                "netrc": f"machine api.example.com login bob password {s['netrc']}",
                "mysql_argv": ["mysql", "-uroot", f"-p{s['mysql']}"],
            },
        )
        assert logged.status_code == 200
        client.get(f"/boom?code={s['code']}")
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
        for name, secret in s.items():
            assert secret not in text, f"{name} leaked into {channel}"
        assert f'"code": {otp}' not in text and f"code={otp}" not in text, channel
    assert "OTEL_DISTRO_REDACT_VALUES" in outputs["stderr"]
    assert "pattern 2 of 2" in outputs["stderr"]
    assert "Chrome/124.0.0.0" in outputs["otlp"]
    assert "/srv/app" in outputs["log file"] and "ORD-2024-0001" in outputs["log file"]
    assert "deployment.region" in outputs["otlp"] and "REDACTED" in outputs["otlp"]
    client_urls = [
        str(span.attributes.get("http.url") or span.attributes.get("url.full") or "")
        for span in otlp_capture.spans(kind="CLIENT")
    ]
    assert any("/services/" in url and "view=full" in url for url in client_urls), client_urls
