"""Baggage trust (inbound), scope (outbound) and the request-id response headers."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from otel_distro.config import load_settings
from otel_distro.context import begin_request, set_tenant
from otel_distro.propagation import (
    DestinationPolicy,
    RequestIdResponsePropagator,
    TrustedBaggagePropagator,
    parse_baggage_header,
)
from tests.support.baggage import inject_under

tracer = TracerProvider().get_tracer("test")


def scope(baggage_header: str | None, client: str = "203.0.113.9") -> dict[str, Any]:
    headers = [] if baggage_header is None else [(b"baggage", baggage_header.encode())]
    return {"type": "http", "client": (client, 5555), "headers": headers}


class ScopeGetter:
    def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
        values = [v.decode() for k, v in carrier["headers"] if k.decode() == key]
        return values or None

    def keys(self, carrier: dict[str, Any]) -> list[str]:
        return [k.decode() for k, _ in carrier["headers"]]


def extract(header: str | None, client: str = "203.0.113.9", **env: str) -> dict[str, object]:
    propagator = TrustedBaggagePropagator(load_settings(env))
    ctx = propagator.extract(
        scope(header, client), context=otel_context.Context(), getter=ScopeGetter()
    )
    return dict(baggage.get_all(ctx))


def test_protected_keys_from_untrusted_peer_are_dropped() -> None:
    """A forged tenant from an untrusted peer never enters the context; other keys do."""
    assert extract("tenant.id=evil,user.id=root,plan=gold") == {"plan": "gold"}


@pytest.mark.parametrize("key", ["Tenant.ID", "TENANT.ID", "tenant%2Eid", "User.Id"])
def test_protected_key_variants_are_dropped(key: str) -> None:
    """Case and percent-encoding variants of protected keys are dropped too."""
    assert extract(f"{key}=evil,plan=gold") == {"plan": "gold"}


def test_trusted_peer_keeps_protected_keys() -> None:
    """A peer inside OTEL_DISTRO_TRUSTED_PEERS is honoured."""
    found = extract("tenant.id=acme", client="10.1.2.3", OTEL_DISTRO_TRUSTED_PEERS="10.0.0.0/8")
    assert found == {"tenant.id": "acme"}


def test_configured_protected_keys_are_dropped_too() -> None:
    """Extra protected keys behave like tenant.id."""
    found = extract("role=admin,plan=gold", OTEL_DISTRO_PROTECTED_BAGGAGE_KEYS="role")
    assert found == {"plan": "gold"}


@pytest.mark.parametrize(
    "header",
    [
        "plan=gold,broken",
        "plan=gold,=novalue",
        "pl an=gold",
        "plan=gold\x00",
        "plan=%ff%fe",
        "plan=" + "x" * 9000,
        ",".join(f"k{i}=v" for i in range(200)),
    ],
)
def test_malformed_or_oversized_headers_are_dropped_whole(header: str) -> None:
    """Anything not strictly W3C baggage, or too large, is ignored entirely, never an error."""
    assert extract(header) == {}


def test_percent_encoded_values_are_decoded() -> None:
    assert parse_baggage_header("k=a%20b;prop=1", 8192) == {"k": "a b"}


def test_unknown_carrier_is_untrusted() -> None:
    """Without a peer address (e.g. a message header dict) protected keys are dropped."""
    propagator = TrustedBaggagePropagator(load_settings({"OTEL_DISTRO_TRUSTED_PEERS": "0.0.0.0/0"}))
    ctx = propagator.extract({"baggage": "tenant.id=evil"}, context=otel_context.Context())
    assert baggage.get_all(ctx) == {}


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("10.2.3.4", True),
        ("192.168.1.1", True),
        ("billing.internal", True),
        ("api.ns.svc.cluster.local", True),
        ("api.example.com", False),
        ("8.8.8.8", False),
        ("internal.evil.com", False),
        ("", False),
        (None, False),
    ],
)
def test_default_destination_policy(host: str | None, allowed: bool) -> None:
    policy = DestinationPolicy(load_settings({}).baggage_propagate_to)
    assert policy.allows(host) is allowed


def inject_for(url: str) -> dict[str, str]:
    return inject_under(SpanKind.CLIENT, {"http.url": url})


def test_baggage_goes_to_internal_hosts_only() -> None:
    """Outbound baggage is scoped by destination host; external hosts get none."""
    assert inject_for("http://127.0.0.1:8000/x") == {"baggage": "tenant.id=acme"}
    assert inject_for("https://api.example.com/x") == {}


def test_no_client_span_means_no_baggage() -> None:
    """With no known destination, baggage is withheld (deny by default)."""
    propagator = TrustedBaggagePropagator(load_settings({}))
    carrier: dict[str, str] = {}
    ctx = baggage.set_baggage("tenant.id", "acme")
    propagator.inject(carrier, context=ctx)
    assert carrier == {}


def test_request_state_reaches_outbound_baggage() -> None:
    """A tenant set in another copy of the request context is still propagated."""
    import contextvars

    propagator = TrustedBaggagePropagator(load_settings({}))

    def request() -> dict[str, str]:
        begin_request(None)
        # as from a threadpool dependency: a copied context whose changes do not flow back
        contextvars.copy_context().run(set_tenant, tenant_id="t-1", user_id="u-1")
        carrier: dict[str, str] = {}
        with tracer.start_as_current_span(
            "GET", kind=SpanKind.CLIENT, attributes={"server.address": "10.0.0.5"}
        ):
            propagator.inject(carrier)
        return carrier

    carrier = contextvars.copy_context().run(request)
    assert sorted(carrier["baggage"].split(",")) == ["tenant.id=t-1", "user.id=u-1"]


def test_response_propagator_sets_traceresponse_and_request_id() -> None:
    """traceresponse and X-Request-ID carry the server span's trace id on response start."""
    propagator = RequestIdResponsePropagator("X-Request-ID")
    with tracer.start_as_current_span("server") as span:
        start: dict[str, Any] = {"type": "http.response.start", "headers": []}
        body: dict[str, Any] = {"type": "http.response.body"}

        def setter_set(carrier: dict[str, Any], key: str, value: str) -> None:
            carrier.setdefault("headers", []).append((key.encode(), value.encode()))

        class Setter:
            set = staticmethod(setter_set)

        propagator.inject(start, setter=Setter())
        propagator.inject(body, setter=Setter())
    trace_id = format(span.get_span_context().trace_id, "032x")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["x-request-id"] == trace_id
    assert headers["traceresponse"].split("-")[1] == trace_id
    assert "headers" not in body


def test_request_id_header_can_be_turned_off() -> None:
    propagator = RequestIdResponsePropagator("")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("server"):
        propagator.inject(carrier)
    assert "x-request-id" not in {k.lower() for k in carrier}
    assert "traceresponse" in carrier


def test_nothing_is_injected_outside_a_trace() -> None:
    carrier: dict[str, str] = {}
    RequestIdResponsePropagator("X-Request-ID").inject(carrier, context=otel_context.Context())
    assert carrier == {}
    assert trace.get_current_span().get_span_context().is_valid is False
