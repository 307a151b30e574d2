"""The client address of a security event: the peer, or a forwarded hop behind a trusted proxy."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from otel_distro.config import load_settings
from otel_distro.security import client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def scope(peer: str, *headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "client": (peer, 4711),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }


def test_peer_is_the_address_without_trusted_proxies() -> None:
    """With no trusted proxies a forwarded header changes nothing."""
    assert client_address(scope("203.0.113.9", ("X-Forwarded-For", "198.51.100.1"))) == (
        "203.0.113.9"
    )


def test_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    """A peer outside ``OTEL_DISTRO_TRUSTED_PROXIES`` cannot choose its address by header."""
    s = scope("203.0.113.9", ("X-Forwarded-For", "10.0.0.1"), ("Forwarded", "for=1.2.3.4"))
    assert client_address(s, PROXIES) == "203.0.113.9"


def test_trusted_proxy_gives_the_right_most_untrusted_hop() -> None:
    """Behind a trusted proxy, hops prepended by the client are skipped from the right."""
    s = scope("10.0.0.5", ("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.1.1"))
    assert client_address(s, PROXIES) == "198.51.100.7"


def test_several_header_lines_are_one_list() -> None:
    """Two ``X-Forwarded-For`` lines read as one list, in order."""
    s = scope("10.0.0.5", ("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.7"))
    assert client_address(s, PROXIES) == "198.51.100.7"


def test_forwarded_header_is_read_and_preferred() -> None:
    """RFC 7239 ``Forwarded`` (quoted IPv6 with a port too) wins over ``X-Forwarded-For``."""
    s = scope(
        "10.0.0.5",
        ("X-Forwarded-For", "192.0.2.1"),
        ("Forwarded", 'for=6.6.6.6, for="[2001:db8::7]:4711";proto=https, for=10.2.2.2'),
    )
    assert client_address(s, PROXIES) == "2001:db8::7"


def test_all_hops_trusted_gives_the_left_most() -> None:
    """A chain of only trusted proxies is attributed to its first hop."""
    s = scope("10.0.0.5", ("X-Forwarded-For", "10.9.9.9, 10.8.8.8"))
    assert client_address(s, PROXIES) == "10.9.9.9"


@pytest.mark.parametrize("bad", ["unknown", "_hidden", "999.1.1.1", "a" * 5000, ""])
def test_a_hop_that_is_no_address_stops_at_the_last_trusted_one(bad: str) -> None:
    """Garbage in the chain: the trusted hop that reported it is used, never the garbage."""
    s = scope("10.0.0.5", ("X-Forwarded-For", f"6.6.6.6, {bad}, 10.3.3.3"))
    assert client_address(s, PROXIES) == "10.3.3.3"


def test_ipv4_with_port_and_mapped_addresses() -> None:
    """``1.2.3.4:80`` and ``::ffff:10.0.0.5`` are read as the IPv4 addresses they are."""
    s = scope("::ffff:10.0.0.5", ("X-Forwarded-For", "198.51.100.7:8080"))
    assert client_address(s, PROXIES) == "198.51.100.7"


@pytest.mark.parametrize(
    "hostile",
    [{}, {"client": None}, {"client": [42]}, {"client": ("10.0.0.5", 1), "headers": [(b"x",)]}],
)
def test_hostile_scopes_never_raise(hostile: dict[str, Any]) -> None:
    """A scope without a usable peer or with malformed headers gives the peer or None."""
    assert client_address(hostile, PROXIES) in (None, "10.0.0.5")


def test_trusted_proxies_setting_is_a_cidr_list() -> None:
    """``OTEL_DISTRO_TRUSTED_PROXIES`` parses CIDRs; a bad entry is reported, default empty."""
    assert load_settings({"OTEL_DISTRO_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}).trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    bad = load_settings({"OTEL_DISTRO_TRUSTED_PROXIES": "10.0.0.0/8,not-a-net"})
    assert bad.trusted_proxies == ()
    assert any("OTEL_DISTRO_TRUSTED_PROXIES" in p and "not-a-net" in p for p in bad.problems)
