"""The one-pass request attributes equal the contrib ASGI package's, scope by scope."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.instrumentation._semconv import _StabilityMode
from opentelemetry.instrumentation.asgi import asgi_getter, collect_request_attributes

from otel_distro._server_attributes import request_attributes

MODES = [_StabilityMode.DEFAULT, _StabilityMode.HTTP, _StabilityMode.HTTP_DUP]


def _scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/7",
        "query_string": b"q=a%20b&n=1",
        "headers": [(b"host", b"example.test:8080"), (b"user-agent", b"curl/8.0")],
        "client": ("10.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(overrides)
    return scope


def _contrib_size(scope: dict[str, Any]) -> int | None:
    try:
        values = asgi_getter.get(scope, "content-length")
    except UnicodeDecodeError:  # contrib fails the request; no number either way
        return None
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


SCOPES = [
    _scope(),
    _scope(headers=[]),
    _scope(headers=[(b"Host", b"a.test"), (b"HOST", b"b.test"), (b"User-Agent", b"")]),
    _scope(headers=[(b"host", b"\xff\xfe"), (b"user-agent", b"Googlebot/2.1 \xe9")]),
    _scope(headers=[(b"content-length", b"12"), (b"content-length", b"13")]),
    _scope(headers=[(b"content-length", b"twelve")]),
    _scope(server=None, client=None, query_string=b""),
    _scope(server=("127.0.0.1", 80), method="PURGE", scheme="https"),
    _scope(method="", path="", http_version="2"),
    _scope(type="websocket", method=None, scheme="ws"),
    _scope(query_string="already=text%2F"),
]


@pytest.mark.parametrize("semconv", MODES)
@pytest.mark.parametrize("scope", SCOPES)
def test_same_attributes_as_contrib(scope: dict[str, Any], semconv: _StabilityMode) -> None:
    attributes, size = request_attributes(scope, semconv)
    assert attributes == collect_request_attributes(scope, semconv)
    if scope["headers"] and isinstance(scope["headers"][0][0], bytes):
        assert size == _contrib_size(scope)


def test_header_names_outside_the_spec_go_to_contrib() -> None:
    """str header names (not ASGI): the contrib function decides, failing as it fails."""
    scope = _scope(headers=[("host", "str-keys.test")])
    with pytest.raises(AttributeError):
        collect_request_attributes(scope, _StabilityMode.DEFAULT)
    with pytest.raises(AttributeError):
        request_attributes(scope, _StabilityMode.DEFAULT)


_names = st.sampled_from(
    [b"host", b"Host", b"user-agent", b"USER-AGENT", b"content-length", b"x-other", b"h\xc3\xb6st"]
)
_values = st.binary(max_size=24)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(st.tuples(_names, _values), max_size=6),
    query=st.binary(max_size=16).filter(lambda raw: _decodes(raw)),
    port=st.sampled_from([80, 443, 8000]),
)
def test_generated_scopes_same_as_contrib(
    headers: list[tuple[bytes, bytes]], query: bytes, port: int
) -> None:
    scope = _scope(headers=headers, query_string=query, server=("10.1.1.1", port))
    for semconv in MODES:
        attributes, size = request_attributes(scope, semconv)
        try:
            expected = collect_request_attributes(scope, semconv)
        except UnicodeDecodeError:  # contrib fails the request; ours records it
            assert attributes[
                "http.request.method" if semconv.value != "default" else "http.method"
            ]
            continue
        assert attributes == expected
        assert size == _contrib_size(scope)


def test_a_header_contrib_cannot_decode_does_not_fail_the_request() -> None:
    """``b"\\x80\\\\"`` is neither UTF-8 nor valid with escapes: contrib raises."""
    scope = _scope(
        headers=[(b"user-agent", b"ok"), (b"user-agent", b"\x80\\"), (b"host", b"\x80\\")]
    )
    with pytest.raises(UnicodeDecodeError):
        collect_request_attributes(scope, _StabilityMode.DEFAULT)
    attributes, _ = request_attributes(scope, _StabilityMode.DEFAULT)
    assert attributes["http.user_agent"] == "ok"
    assert attributes["http.server_name"] == "\x80\\"


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
