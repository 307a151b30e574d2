"""Red team through real launches: many planted secrets, every channel, two launches.

The hostile app (``tests/integration/hostile_app.py``) plants secrets the way
applications do: ``logging.basicConfig(force=True)``, stdlib %-formatting (also with
the wrong number of arguments) and ``extra=``, structlog positional args and bound
loggers, bytes and objects whose repr carries a secret, exceptions (args, chains,
one uncaught in a thread), a pydantic error echoing its input, response headers and
``Set-Cookie``, span events/attributes/names, values cut at the scan limit and an
outbound call with body logging.  Clients plant them in query strings of many shapes,
paths and headers (all captured, names too), JSON bodies (values and keys) and the
server's own command line.
No secret may appear in the OTLP export, stdout, stderr, the log file or the file
fallback; benign look-alikes must.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import OtlpCapture, launch_app
from tests.support.ci import require

pytestmark = pytest.mark.integration

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWQtdGVhbSJ9.cmVkLXRlYW0tc2lnbmF0dXJlLXZhbHVl"
AWS_KEY = "AKIAZQ7REDTEAMKEY0AB"
GITHUB = "ghp_" + "Rt7" * 12
STRIPE = "sk_live_" + "Rt7q" * 6
GITHUB_AS_KEY = "ghp_" + "Kq8" * 12  # planted as a header name and a JSON key
STRIPE_AS_KEY = "sk_live_" + "Kq8w" * 6
RESET_TOKEN = "9f8a7c6b5d4e3f2a1b0cRt7"  # a generated segment after a sensitive one
ORDINARY_ID = "3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b"
BENIGN = ("author", "token_count", "4111111111111112", "site-42", "not-a-number", "3f2b8c1e-4a5d")
LOOK_ALIKE_BODY = {"author": "jane", "token_count": 12, "order": "4111111111111112"}


class _Plants:
    """Distinct secrets, one per plant, so a leak names where it was planted."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        value = f"Rt{len(self.values):02d}q{name.replace('-', '')[:6]}SECRETz8"
        self.values[name] = value
        return value


def _query_shapes(plant: _Plants) -> list[str]:
    return [
        f"token={plant('q-plain')}",
        f"a=1;password={plant('q-semicolon')}",
        f"pass%77ord={plant('q-pctkey')}",
        f"PASSWORD={plant('q-upper')}",
        f"token[]={plant('q-array')}",
        f"token%5B%5D={plant('q-arrayenc')}",
        f"user%5Bpassword%5D={plant('q-bracket')}",
        f"api_key=x&api_key={plant('q-repeat')}",
        f"redirect=http%3A%2F%2Fx%2Fcb%3Ftoken%3D{plant('q-nested')}",
        f"X-Amz-Signature={plant('q-amz')}",
    ]


def _headers(plant: _Plants) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {plant('h-bearer')}",
        "Cookie": f"a=1; session={plant('h-cookie')}; theme=dark",
        "X-API-Key": plant("h-xapikey"),
        "X-Auth-Token": plant("h-xauth"),
        "Proxy-Authorization": f"Basic {plant('h-proxy')}",
        "X-Amz-Security-Token": plant("h-amz"),
        "X-Custom": f"password={plant('h-custom')}",
        "Private-Token": plant("h-private"),
        "X-Forwarded-Client-Cert": f"Hash=abc;token={plant('h-xfcc')}",
    }


def _channels(app: object, capture: OtlpCapture | None) -> dict[str, str]:
    workdir: Path = app.workdir  # type: ignore[attr-defined]
    outputs = {
        "stdout": app.stdout_text(),  # type: ignore[attr-defined]
        "stderr": app.stderr_text(),  # type: ignore[attr-defined]
    }
    if capture is not None:
        outputs["otlp"] = capture.raw_bytes().decode("utf-8", "replace")
    for path in sorted(workdir.rglob("*")):
        if path.is_file() and path.name not in ("stdout.log", "stderr.log"):
            outputs[str(path.relative_to(workdir))] = path.read_text(errors="replace")
    return outputs


def _leaks(outputs: dict[str, str], secrets: dict[str, str]) -> list[str]:
    return [
        f"{name} ({secret}) in {channel}"
        for name, secret in secrets.items()
        for channel, text in outputs.items()
        if secret in text
    ]


class _Upstream(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/up"
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_app_leaks_nothing(otlp_capture: OtlpCapture, upstream: str) -> None:
    plant = _Plants()
    argv = [
        "--ssl-keyfile-password", plant("argv-sslpw"),
        "--root-path", f"/{STRIPE}",
        "--header", f"x-api-key:{plant('argv-header')}",
    ]  # fmt: skip
    env = {
        "ENVIRONMENT": "production",
        "LOG_TO_FILE": "true",
        "LOG_DIR": "logs",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http/dup",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE": ".*",
        "EXTERNAL_HTTP_ENABLE_BODY_LOGGING": "true",
        "HOSTILE_UPSTREAM_URL": upstream,
        "HOSTILE_BASIC_CONFIG": "1",  # the app adds its own console handler
    }
    with launch_app(
        "tests.integration.hostile_app:app", capture=otlp_capture, env=env, extra_args=argv
    ) as app:
        client = app.client()
        for query in _query_shapes(plant):
            client.get(f"/anything/q?{query}#access_token={plant('fragment-' + query[:6])}")
        for shaped in (JWT, AWS_KEY, GITHUB):
            client.get(f"/p/{shaped}/x")
        client.get(f"/reset-password/{RESET_TOKEN}")
        client.get(f"/users/{ORDINARY_ID}")
        client.get("/anything/headers", headers=_headers(plant))
        for endpoint in (
            "stdlib", "structlog", "exceptions", "validation", "headers-out", "span", "long",
            "thread",
        ):  # fmt: skip
            response = client.get(f"/{endpoint}", params={"secret": plant(endpoint)})
            assert response.status_code == 200, (endpoint, response.text)
        assert client.post("/outbound", params={"secret": plant("outbound")}).status_code == 200
        body = {
            "a": {"b": [{"apiKey": plant("b-apikey")}]},
            "x-api-key": plant("b-kebab"),
            "clientSecret": plant("b-cs"),
            "refreshToken": plant("b-rt"),
            "inner": json.dumps({"password": plant("b-jsonstr")}),
            "double": json.dumps(json.dumps({"password": plant("b-double")})),
            "headers": [["authorization", plant("b-hdrpair")]],
            "pw": plant("b-pw"),
            "site": "site-42",
            **LOOK_ALIKE_BODY,
        }
        assert client.post("/echo", json=body).status_code == 200
        assert client.post("/echo", json=[{"password": plant("b-list")}]).status_code == 200
        keyed = {GITHUB_AS_KEY: 1, "nested": {STRIPE_AS_KEY: "x"}}
        assert client.post("/echo", json=keyed).status_code == 200
        client.get("/anything/header-names", headers={GITHUB_AS_KEY: "1"})
        otlp_capture.wait_for(
            lambda: sum(log.body == "echo" for log in otlp_capture.logs()) >= 3,
            message="the echo records",
        )
        app.stop()
        outputs = _channels(app, otlp_capture)
        validation = [log for log in otlp_capture.logs() if log.body == "validation_failed"]
    secrets = {**plant.values, "jwt": JWT, "aws": AWS_KEY, "github": GITHUB, "stripe": STRIPE}
    secrets.update(github_key=GITHUB_AS_KEY, stripe_key=STRIPE_AS_KEY, reset=RESET_TOKEN)
    # the log value cut at the scan limit shows no part of the token it cut through
    secrets["straddle"] = ("ghp_" + plant.values["long"] * 4)[:12]
    assert set(outputs) >= {"otlp", "stdout", "stderr", "logs/app.log"}
    assert not _leaks(outputs, secrets)
    for benign in BENIGN:
        for channel in ("otlp", "stdout", "logs/app.log"):
            assert benign in outputs[channel], (benign, channel)
    assert "REDACTED" in outputs["otlp"] and "REDACTED" in outputs["logs/app.log"]
    report = validation[0].attributes["otel_distro.redacted"]
    assert "password:errors[0].input" in report and "password:text" in report, report
    errors = {tuple(e["loc"]): e["input"] for e in validation[0].attributes["errors"]}
    assert errors == {
        ("password",): "REDACTED",
        ("apiKey",): "REDACTED",
        ("age",): "not-a-number",
    }


def test_raw_asgi_app_with_file_fallback_leaks_nothing() -> None:
    """Span names of a bare ASGI app, the access log and the ./telemetry/ files."""
    require(
        all(_port_free(port) for port in (4317, 4318)), "something listens on 127.0.0.1:4317/4318"
    )
    plant = _Plants()
    env = {"ENVIRONMENT": "production", "LOG_TO_FILE": "true"}
    with launch_app("examples.asgi_apps:raw_app", capture=None, env=env) as app:
        client = app.client()
        client.get(f"/raw/{JWT}/{GITHUB}/token={plant('path-pair')}?password={plant('query')}")
        client.get(f"/k/{AWS_KEY}?token[]={plant('array')}&pass%77ord={plant('pctkey')}")
        client.get("/h", headers={"Authorization": f"Bearer {plant('bearer')}"})
        app.stop()
        outputs = _channels(app, None)
    assert {"telemetry/traces.jsonl", "telemetry/logs.jsonl"} <= set(outputs), sorted(outputs)
    secrets = {**plant.values, "jwt": JWT, "aws": AWS_KEY, "github": GITHUB}
    assert not _leaks(outputs, secrets)
    assert "/raw/REDACTED/REDACTED/token=REDACTED" in outputs["telemetry/traces.jsonl"]


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0
