"""Response headers under real uvicorn + opentelemetry-instrument: the app's own stay its own."""

from __future__ import annotations

import socket

import pytest

from tests.support import launch_app

pytestmark = pytest.mark.integration

APP = "tests.integration.headers_app:starlette_app"
RAW = "tests.integration.headers_app:raw_app"
NO_DATE = ("--no-date-header", "--no-server-header")
ORIGIN = {"Origin": "https://app.example"}


def test_cached_objects_keep_their_header_count() -> None:
    """300 real requests: the cached response and the raw app's list keep their header count."""
    with launch_app(APP) as app, launch_app(RAW) as raw:
        http, raw_http = app.client(), raw.client()
        before = http.get("/count").text, raw_http.get("/count").text
        for _ in range(300):
            response = http.get("/health")
            assert len(response.headers.get_list("x-request-id")) == 1
            raw_response = raw_http.get("/")
            assert len(raw_response.headers.get_list("traceresponse")) == 1
        after = http.get("/count").text, raw_http.get("/count").text
        last = http.get("/health")
    assert after == before
    assert last.headers["traceresponse"].split("-")[1] == last.headers["x-request-id"]


def test_app_request_id_is_sent_once() -> None:
    """The app's own X-Request-ID is the only one; traceresponse is still added."""
    with launch_app(APP) as app:
        response = app.client().get("/own-id")
    assert response.headers.get_list("x-request-id") == ["client-123"]
    assert "traceresponse" in response.headers


def test_expose_header_only_for_cors_requests_and_merged() -> None:
    """No expose header without Origin; with it, one header: the app's names, then ours."""
    with launch_app(APP) as app:
        plain = app.client().get("/health")
        cors = app.client().get("/health", headers=ORIGIN)
        missing = app.client().get("/nowhere")
    assert "access-control-expose-headers" not in plain.headers
    assert "access-control-expose-headers" not in missing.headers
    (exposed,) = cors.headers.get_list("access-control-expose-headers")
    assert [n.strip().lower() for n in exposed.split(",")] == [
        "x-custom",
        "traceresponse",
        "x-request-id",
    ]


REQUESTS = [
    b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n",
    b"GET /own-id HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    b"GET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    b"OPTIONS /health HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n"
    b"Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n",
]


def raw_exchange(port: int, request: bytes) -> bytes:
    """The exact bytes the server answers one request with."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("target", [APP, RAW])
def test_headers_off_is_byte_identical_to_the_uninstrumented_app(target: str) -> None:
    """OTEL_DISTRO_RESPONSE_HEADERS=off: every response is byte for byte the plain app's."""
    off = {"OTEL_DISTRO_RESPONSE_HEADERS": "off"}
    with (
        launch_app(target, instrument=False, extra_args=NO_DATE) as plain,
        launch_app(target, env=off, extra_args=NO_DATE) as instrumented,
    ):
        for request in REQUESTS:
            assert raw_exchange(instrumented.port, request) == raw_exchange(plain.port, request)
