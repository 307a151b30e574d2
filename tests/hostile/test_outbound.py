"""Outbound baggage scope against hostile destinations, read from the real target host.

The destination is taken from the span of the call being made (CLIENT or PRODUCER); a
server span's address comes from the inbound ``Host`` header, so it never qualifies.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.httpx import SyncOpenTelemetryTransport
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from otel_distro.config import load_settings
from otel_distro.propagation import DestinationPolicy, TrustedBaggagePropagator
from tests.support.baggage import inject_under

provider = TracerProvider()
tracer = provider.get_tracer("test")


@pytest.mark.parametrize(
    "host",
    [
        "evil.internal.com",
        "svc.cluster.local.evil.com",
        "localhost.evil.com",
        "internal",
        "evil.com.",
        "EVIL.COM",
        "::ffff:8.8.8.8",
        "127.0.0.1.nip.io",
        "2130706433",
        "0x7f.1",
        "10.0.0.1@evil.com",
        "evil.com/.internal",
        "evil.com%2e.internal",
        "evil.com:80.internal",
    ],
)
def test_lookalike_hosts_are_not_internal(host: str) -> None:
    policy = DestinationPolicy(load_settings({}).baggage_propagate_to)
    assert policy.allows(host) is False


@pytest.mark.parametrize(
    "host", ["LOCALHOST", "localhost.", "::1", "[::1]", "fc00::1", "A.INTERNAL"]
)
def test_case_brackets_and_trailing_dot_still_match(host: str) -> None:
    policy = DestinationPolicy(load_settings({}).baggage_propagate_to)
    assert policy.allows(host) is True


@pytest.fixture()
def baggage_propagator() -> Iterator[None]:
    previous = get_global_textmap()
    set_global_textmap(TrustedBaggagePropagator(load_settings({})))
    token = otel_context.attach(baggage.set_baggage("tenant.id", "acme"))
    try:
        yield
    finally:
        otel_context.detach(token)
        set_global_textmap(previous)


def sent_baggage(url: str) -> tuple[str, str | None]:
    """(host the request really went to, baggage header it carried) through instrumented httpx."""
    seen: dict[str, str | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["host"] = request.url.host
        seen["baggage"] = request.headers.get("baggage")
        return httpx.Response(200)

    transport = SyncOpenTelemetryTransport(httpx.MockTransport(handler), tracer_provider=provider)
    with httpx.Client(transport=transport) as client:
        client.get(url)
    return str(seen["host"]), seen["baggage"]


@pytest.mark.usefixtures("baggage_propagator")
@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1@evil.com/",
        "http://10.0.0.1:80@evil.com/",
        "http://evil.com#@10.0.0.1/",
        "http://evil.com?@10.0.0.1/",
        "http://evil.internal.com/",
        "http://svc.cluster.local.evil.com/",
        "http://localhost.evil.com/",
        "http://[::ffff:8.8.8.8]/",
        "http://evil.com./",
    ],
)
def test_real_target_outside_the_allow_list_gets_no_baggage(url: str) -> None:
    host, header = sent_baggage(url)
    assert not DestinationPolicy(load_settings({}).baggage_propagate_to).allows(host)
    assert header is None


@pytest.mark.usefixtures("baggage_propagator")
@pytest.mark.parametrize(
    "url",
    ["http://user:pw@10.0.0.1/", "http://[::1]:8080/", "http://LOCALHOST/", "http://a.internal./"],
)
def test_real_internal_target_gets_baggage(url: str) -> None:
    assert sent_baggage(url)[1] == "tenant.id=acme"


def test_server_span_host_is_not_a_destination() -> None:
    """``inject()`` under the server span (a hand-made call from a handler) sends no baggage,
    although the server span's ``http.url``/``server.address`` (from the caller's ``Host``
    header) name an internal host."""
    forged_host = {"http.url": "http://localhost/x", "server.address": "localhost"}
    assert inject_under(SpanKind.SERVER, forged_host) == {}
    assert inject_under(SpanKind.INTERNAL, forged_host) == {}
    assert inject_under(SpanKind.CONSUMER, forged_host) == {}
    assert inject_under(SpanKind.CLIENT, forged_host) == {"baggage": "tenant.id=acme"}
    assert inject_under(SpanKind.PRODUCER, {"net.peer.name": "mq.internal"}) == {
        "baggage": "tenant.id=acme"
    }


def test_every_host_the_client_span_names_must_be_allowed() -> None:
    """An internal address next to an external URL (a proxy, a rewritten attribute): none."""
    mixed = {"network.peer.address": "10.0.0.7", "url.full": "https://api.example.com/x"}
    assert inject_under(SpanKind.CLIENT, mixed) == {}
    unparsable = {"server.address": "10.0.0.7", "url.full": "http://[bad/x"}
    assert inject_under(SpanKind.CLIENT, unparsable) == {}


def test_ipv4_mapped_destinations_follow_their_ipv4_address() -> None:
    policy = DestinationPolicy(load_settings({}).baggage_propagate_to)
    assert policy.allows("::ffff:10.0.0.1") is True
    assert policy.allows("[::ffff:127.0.0.1]") is True
    assert policy.allows("::ffff:8.8.8.8") is False
