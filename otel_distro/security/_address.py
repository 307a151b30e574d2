"""The client address of a request: the socket peer, or a forwarded hop behind a trusted proxy.

``X-Forwarded-For`` and ``Forwarded`` are written by whoever sends the request, so
they are read only when the socket peer is a proxy listed in
``OTEL_DISTRO_TRUSTED_PROXIES``.  Each proxy appends the address it received the
request from, so the list is walked from the right: trusted proxies are skipped
and the first hop that is not one is the client.  A hop that is not an IP address
(``unknown``, an obfuscated ``_name``, garbage) stops the walk: the last address
known good (a trusted proxy, or the peer) is used instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from otel_distro.config import Network

__all__ = ["MAX_FORWARDED_HOPS", "client_address", "peer_address"]

MAX_FORWARDED_HOPS = 32  # a longer chain is read only from its right end
_MAX_HEADER = 4096  # bytes read from the right end of each header

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def peer_address(scope: object) -> str | None:
    """The socket peer of an ASGI scope (``scope["client"][0]``), or None."""
    try:
        client = scope.get("client") if isinstance(scope, dict) else None
        if isinstance(client, (tuple, list)) and client and isinstance(client[0], str):
            return client[0][:64] or None
    except Exception:  # noqa: S110 - a hostile scope has no peer
        pass
    return None


def _parse_ip(text: str) -> IPAddress | None:
    value = text.strip().strip('"').strip()
    if value.startswith("["):  # Forwarded: "[2001:db8::1]:4711"
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:  # IPv4 with a port
        value = value.split(":", 1)[0]
    if not value or len(value) > 64:
        return None
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def _trusted(address: IPAddress, proxies: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def _header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    values: list[str] = []
    for key, value in headers:
        if isinstance(key, bytes) and key.lower() == name and isinstance(value, bytes):
            values.append(value[-_MAX_HEADER:].decode("latin-1"))  # the right end counts
    return values


def _forwarded_hops(values: list[str]) -> list[str]:
    """The ``for=`` parameter of each ``Forwarded`` element (RFC 7239), in order."""
    hops: list[str] = []
    for value in values:
        for element in value.split(","):
            found = ""
            for pair in element.split(";"):
                name, _, param = pair.partition("=")
                if name.strip().lower() == "for":
                    found = param.strip()
            hops.append(found)
    return hops


def _xff_hops(values: list[str]) -> list[str]:
    return [hop for value in values for hop in value.split(",")]


def client_address(scope: object, trusted_proxies: Sequence[Network] = ()) -> str | None:
    """The address a security event is attributed to (see the module docstring)."""
    peer = peer_address(scope)
    if peer is None or not trusted_proxies or not isinstance(scope, dict):
        return peer
    peer_ip = _parse_ip(peer)
    if peer_ip is None or not _trusted(peer_ip, trusted_proxies):
        return peer
    try:
        headers = scope.get("headers") or ()
        forwarded = _header_values(headers, b"forwarded")
        hops = (
            _forwarded_hops(forwarded)
            if forwarded
            else _xff_hops(_header_values(headers, b"x-forwarded-for"))
        )
    except Exception:  # a hostile header list: the peer is all we know
        return peer
    current = str(peer_ip)
    for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
        address = _parse_ip(hop)
        if address is None:
            return current
        current = str(address)
        if not _trusted(address, trusted_proxies):
            return current
    return current
