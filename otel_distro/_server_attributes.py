"""A request's semconv attributes from its ASGI scope, with one pass over its headers.

The same mapping as ``opentelemetry.instrumentation.asgi.collect_request_attributes``
(built with the same contrib semconv setters), without its three scans of the header list
(each decoding every header name) and its second computation of the host and URL: one pass
finds ``host``, ``user-agent`` and ``content-length`` (kept for the request-size metric).
A scope whose header names are not bytes (outside the ASGI spec) goes to the contrib
function itself.  Where the contrib getter raises (a header neither UTF-8 nor valid with
escapes, such as ``b"\\x80\\\\"``, anywhere in the list), the request is still served
and its attributes recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote

from opentelemetry.instrumentation import asgi as contrib_asgi
from opentelemetry.instrumentation._semconv import (
    _report_old,
    _set_http_flavor_version,
    _set_http_host_server,
    _set_http_method,
    _set_http_net_host_port,
    _set_http_peer_ip_server,
    _set_http_peer_port_server,
    _set_http_scheme,
    _set_http_target,
    _set_http_url,
    _set_http_user_agent,
    _StabilityMode,
)
from opentelemetry.util.http import (
    detect_synthetic_user_agent,
    normalize_user_agent,
    redact_url,
    sanitize_method,
)

from otel_distro._asgi_types import Scope

__all__ = ["decode_header", "request_attributes"]

_contrib_attributes = cast(
    Callable[[Scope, _StabilityMode], dict[str, Any]], contrib_asgi.collect_request_attributes
)
_SERVER_NAME = "http.server_name"
_SYNTHETIC_TYPE = "user_agent.synthetic.type"
_DEFAULT_SERVER = ("0.0.0.0", 80)


def decode_header(raw: bytes) -> str:
    """A header name or value as text: UTF-8, else with escapes (as the contrib getter),
    else Latin-1 where the contrib getter raises (``b"\\x80\\\\"``: a hostile header
    must not fail the request)."""
    try:
        return raw.decode("utf-8")
    except ValueError:
        pass
    try:
        return raw.decode("unicode_escape")
    except ValueError:
        return raw.decode("latin-1")


class _Headers:
    """What the attributes and metrics need from the request's headers, found in one pass."""

    __slots__ = ("content_length", "hosts", "user_agent")

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.user_agent: str | None = None
        self.content_length: str | None = None


def _scan(headers: Any) -> _Headers | None:
    found = _Headers()
    for key, value in headers:
        if not isinstance(key, bytes):
            return None
        # these names are ASCII without a letter Unicode lowercases from elsewhere, so
        # comparing lowercased bytes equals comparing decoded, lowercased names
        name = key.lower()
        if name == b"host":
            found.hosts.append(decode_header(value))
        elif name == b"user-agent":
            if found.user_agent is None:
                found.user_agent = decode_header(value)
        elif name == b"content-length" and found.content_length is None:
            found.content_length = decode_header(value)
    return found


def request_attributes(scope: Scope, semconv: _StabilityMode) -> tuple[dict[str, Any], int | None]:
    """The request's attributes, and its ``content-length`` as a number when it has one."""
    found = _scan(scope.get("headers") or ())
    if found is None:
        return _contrib_attributes(scope, semconv), None
    server = scope.get("server") or _DEFAULT_SERVER
    port = server[1]
    server_host = server[0] + (":" + str(port) if str(port) != "80" else "")
    url_host = found.hosts[0] if found.hosts else server_host
    http_url = scope.get("scheme", "http") + "://" + url_host + scope.get("path", "")
    query_string = scope.get("query_string")
    if query_string and http_url:
        if isinstance(query_string, bytes):
            query_string = query_string.decode("utf8")
        http_url += "?" + unquote(query_string)
    result: dict[str, Any] = {}
    scheme = scope.get("scheme")
    if scheme:
        _set_http_scheme(result, scheme, semconv)
    if server_host:
        _set_http_host_server(result, server_host, semconv)
    if port:
        _set_http_net_host_port(result, port, semconv)
    flavor = scope.get("http_version")
    if flavor:
        _set_http_flavor_version(result, flavor, semconv)
    path = scope.get("path")
    if path:
        _set_http_target(result, path, path, query_string, semconv)
    old = _report_old(semconv)
    if http_url and old:
        _set_http_url(result, redact_url(http_url), _StabilityMode.DEFAULT)
    method = scope.get("method", "")
    if method:
        _set_http_method(result, method, sanitize_method(method), semconv)
    if found.hosts and old:
        result[_SERVER_NAME] = ",".join(found.hosts)
    if found.user_agent is not None:
        agent = normalize_user_agent(found.user_agent)
        if agent:
            _set_http_user_agent(result, agent, semconv)
        synthetic = detect_synthetic_user_agent(agent)
        if synthetic:
            result[_SYNTHETIC_TYPE] = synthetic
    client = scope.get("client")
    if client is not None:
        _set_http_peer_ip_server(result, client[0], semconv)
        _set_http_peer_port_server(result, client[1], semconv)
    return {key: value for key, value in result.items() if value is not None}, _size(found)


def _size(found: _Headers) -> int | None:
    if found.content_length is None:
        return None
    try:
        return int(found.content_length)
    except ValueError:
        return None
