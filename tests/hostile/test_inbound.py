"""Inbound baggage from an untrusted peer: no spelling of a protected key gets through."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import baggage
from opentelemetry import context as otel_context

from otel_distro.config import load_settings
from otel_distro.propagation import TrustedBaggagePropagator, parse_baggage_header

PROTECTED = ("tenant.id", "user.id")


def extract(headers: list[bytes], client: str = "203.0.113.9") -> dict[str, object]:
    carrier: dict[str, Any] = {
        "type": "http",
        "client": (client, 5555),
        "headers": [(b"baggage", value) for value in headers],
    }

    class Getter:
        def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
            values = [v.decode("latin-1") for k, v in carrier["headers"] if k == key.encode()]
            return values or None

        def keys(self, carrier: dict[str, Any]) -> list[str]:
            return []

    propagator = TrustedBaggagePropagator(load_settings({}))
    ctx = propagator.extract(carrier, context=otel_context.Context(), getter=Getter())
    return dict(baggage.get_all(ctx))


@pytest.mark.parametrize(
    "key",
    [
        "tenant%252Eid",
        "tenant%25252eid",
        "tenant.id%00",
        "%00tenant.id",
        "tenant.id%09",
        "USER%2eID%0B",
    ],
)
def test_double_encoding_and_invisible_characters_do_not_get_around(key: str) -> None:
    assert extract([f"{key}=evil,plan=gold".encode()]) == {"plan": "gold"}


def test_several_headers_properties_and_duplicates() -> None:
    found = extract([b"a=1;p=q", b"b=2, a=3", b"tenant.id=evil;x"])
    assert found == {"a": "3", "b": "2"}


@pytest.mark.parametrize(
    "header",
    [
        b"a=\xff\xfe",  # not UTF-8 in the value
        b"a=%FF",  # percent-decodes to invalid UTF-8
        b"a=%0A",  # decodes to a control character
        b"a=b\x00",
        b"=novalue",
        b"a=" + b"x" * 9000,
        b",".join(b"k%d=v" % i for i in range(200)),
    ],
)
def test_malformed_headers_are_dropped_whole(header: bytes) -> None:
    assert extract([header, b"plan=gold"]) == {}


_char = st.sampled_from(list("abcdefghijklmnopqrstuvwxyz.ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


@st.composite
def disguised(draw: st.DrawFn) -> str:
    """A protected key with random case, percent-encoding (once or twice) and padding."""
    key = draw(st.sampled_from(PROTECTED))
    out = []
    for char in key:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            out.append(char)
        elif choice == 1:
            out.append(char.swapcase())
        elif choice == 2:
            out.append(f"%{ord(char):02X}")
        else:
            out.append(f"%25{ord(char):02x}")
    pad = draw(st.sampled_from(["", "%00", "%20", "%09", "%7F", "%2500"]))
    return draw(st.sampled_from([pad + "".join(out), "".join(out) + pad]))


@settings(max_examples=300, deadline=None)
@given(key=disguised(), value=st.text(_char, min_size=1, max_size=8))
def test_no_disguise_of_a_protected_key_passes(key: str, value: str) -> None:
    found = extract([f"{key}={value},plan=gold".encode()])
    assert found in ({"plan": "gold"}, {})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    found = extract([raw, b"tenant.id=evil"])
    assert "tenant.id" not in found
    parse_baggage_header(raw.decode("latin-1"), 8192)


def test_ipv4_mapped_peer_is_its_ipv4_address() -> None:
    """A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d: trust follows the IPv4."""
    trusted = TrustedBaggagePropagator(load_settings({"OTEL_DISTRO_TRUSTED_PEERS": "10.0.0.0/8"}))

    def kept(client: str) -> dict[str, object]:
        carrier = {
            "type": "http",
            "client": (client, 1),
            "headers": [(b"baggage", b"tenant.id=acme")],
        }

        class Getter:
            def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
                return [v.decode() for k, v in carrier["headers"] if k == key.encode()] or None

            def keys(self, carrier: dict[str, Any]) -> list[str]:
                return []

        ctx = trusted.extract(carrier, context=otel_context.Context(), getter=Getter())
        return dict(baggage.get_all(ctx))

    assert kept("::ffff:10.0.0.5") == {"tenant.id": "acme"}
    assert kept("10.0.0.5") == {"tenant.id": "acme"}
    assert kept("::ffff:203.0.113.9") == {}
    assert kept("fe80::1%eth0") == {}
