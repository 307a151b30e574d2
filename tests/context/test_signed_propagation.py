"""The propagator with signing keys: outbound signatures, inbound verification, events."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_distro._signature_events import SignatureViolationSpanProcessor
from otel_distro._state import reset
from otel_distro.baggage_signing import Keyring
from otel_distro.config import load_settings
from otel_distro.config._signing_keys import parse_signing_keys
from otel_distro.context import begin_request, set_tenant
from otel_distro.propagation import TrustedBaggagePropagator

INTERNAL = {"server.address": "10.0.0.7", "url.full": "http://10.0.0.7/x"}
EXTERNAL = {"server.address": "api.example.com", "url.full": "https://api.example.com/x"}


class ScopeGetter:
    def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
        values = [v.decode() for k, v in carrier["headers"] if k.decode() == key]
        return values or None

    def keys(self, carrier: dict[str, Any]) -> list[str]:
        return [k.decode() for k, _ in carrier["headers"]]


@pytest.fixture(autouse=True)
def _forget_reports() -> None:
    reset()


@pytest.fixture
def key() -> str:
    return f"k1:{secrets.token_urlsafe(32)}"


@pytest.fixture
def spans() -> Iterator[tuple[trace.Tracer, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SignatureViolationSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("test"), exporter
    provider.shutdown()


def composite(**env: str) -> CompositePropagator:
    return CompositePropagator(
        [TraceContextTextMapPropagator(), TrustedBaggagePropagator(load_settings(env))]
    )


def signed_headers(
    tracer: trace.Tracer, attributes: dict[str, str] | None = None, **env: str
) -> dict[str, str]:
    """What a signing service sends for tenant acme / user u-1 under a client span."""
    carrier: dict[str, str] = {}
    attributes = attributes or INTERNAL
    with tracer.start_as_current_span("call", kind=SpanKind.CLIENT, attributes=attributes):
        token = otel_context.attach(baggage.set_baggage("plan", "gold"))
        try:
            with set_tenant(tenant_id="acme", user_id="u-1"):
                composite(**env).inject(carrier)
        finally:
            otel_context.detach(token)
    return carrier


def receive(
    tracer: trace.Tracer,
    headers: dict[str, str],
    client: str = "203.0.113.9",
    **env: str,
) -> tuple[dict[str, object], Any]:
    """Baggage the receiving service sees, and its server span (finished)."""
    scope = {
        "type": "http",
        "client": (client, 5555),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    ctx = composite(**env).extract(scope, context=otel_context.Context(), getter=ScopeGetter())
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span("GET /", kind=SpanKind.SERVER) as span:
            seen = dict(baggage.get_all())
    finally:
        otel_context.detach(token)
    return seen, span


def violations(span: Any) -> list[dict[str, object]]:
    """The reason each security event of the span names (the events carry more, never values)."""
    return [
        {"violation": e.attributes["violation"]}
        for e in span.events
        if e.name == "security.violation"
    ]


def test_outbound_signs_protected_entries(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """Toward an allowed host the baggage carries an ``otel_distro.sig=v1.k1...`` entry."""
    headers = signed_headers(spans[0], OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key)
    entries = dict(item.split("=", 1) for item in headers["baggage"].split(","))
    assert entries["tenant.id"] == "acme" and entries["plan"] == "gold"
    assert entries["otel_distro.sig"].startswith("v1.k1.")


def test_no_signature_where_baggage_is_not_allowed(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """A third-party destination gets neither baggage nor its signature."""
    headers = signed_headers(spans[0], EXTERNAL, OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key)
    assert "baggage" not in headers and "traceparent" in headers


def test_no_signature_without_protected_entries(key: str) -> None:
    """Baggage with no protected key is sent unsigned."""
    tracer = TracerProvider().get_tracer("test")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("call", kind=SpanKind.CLIENT, attributes=INTERNAL):
        token = otel_context.attach(baggage.set_baggage("plan", "gold"))
        try:
            composite(OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key).inject(carrier)
        finally:
            otel_context.detach(token)
    assert carrier["baggage"] == "plan=gold"


def test_app_set_signature_entry_is_never_forwarded(key: str) -> None:
    """A ``otel_distro.sig`` the app put in baggage is replaced, not sent along."""
    tracer = TracerProvider().get_tracer("test")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("call", kind=SpanKind.CLIENT, attributes=INTERNAL):
        token = otel_context.attach(baggage.set_baggage("otel_distro.sig", "v1.x.1.forged"))
        try:
            composite(OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key).inject(carrier)
        finally:
            otel_context.detach(token)
    assert "baggage" not in carrier


def test_signed_tenant_is_accepted_from_any_peer(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """With an empty trusted-peer list, a verified signature is enough; no event is raised."""
    tracer = spans[0]
    env = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": key}
    seen, span = receive(tracer, signed_headers(tracer, **env), **env)
    assert seen == {"tenant.id": "acme", "user.id": "u-1", "plan": "gold"}
    assert violations(span) == []


def test_signature_entry_never_enters_the_context(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """The signature (and any variant spelling of its key) is stripped on the way in."""
    tracer = spans[0]
    env = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": key}
    headers = signed_headers(tracer, **env)
    headers["baggage"] += ",OTEL_DISTRO.SIG=x,otel_distro%2Esig=y"
    seen, _ = receive(tracer, headers, **env)
    assert not any("sig" in str(k).lower() for k in seen)


def _forge(headers: dict[str, str], case: str, tracer: trace.Tracer, key: str) -> dict[str, str]:
    forged = dict(headers)
    if case == "missing":
        forged["baggage"] = "tenant.id=acme,user.id=u-1,plan=gold"
    elif case == "bad_mac":
        forged["baggage"] = forged["baggage"].replace("tenant.id=acme", "tenant.id=evil")
    elif case == "wrong_trace":
        with tracer.start_as_current_span("other", kind=SpanKind.CLIENT):
            fresh: dict[str, str] = {}
            TraceContextTextMapPropagator().inject(fresh)
        forged["traceparent"] = fresh["traceparent"]
    elif case == "expired":
        sig = Keyring(parse_signing_keys(key), 300)
        trace_id = int(headers["traceparent"].split("-")[1], 16)
        token = sig.sign({"tenant.id": "acme", "user.id": "u-1"}, trace_id, now=1_000_000_000)
        forged["baggage"] = f"tenant.id=acme,user.id=u-1,plan=gold,otel_distro.sig={token}"
    return forged


@pytest.mark.parametrize("case", ["missing", "bad_mac", "wrong_trace", "expired", "unknown_kid"])
def test_forged_or_replayed_tenant_is_dropped_with_its_reason(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str, case: str
) -> None:
    """Each forgery keeps unprotected entries, drops the tenant, and names its reason only."""
    tracer = spans[0]
    sender_key = f"k9:{secrets.token_urlsafe(32)}" if case == "unknown_kid" else key
    headers = _forge(
        signed_headers(tracer, OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=sender_key), case, tracer, key
    )
    seen, span = receive(tracer, headers, OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key)
    assert seen == {"plan": "gold"}
    assert violations(span) == [{"violation": f"baggage_signature_{case}"}]
    shown = repr([(e.name, dict(e.attributes)) for e in span.events])
    assert "acme" not in shown and "evil" not in shown and "u-1" not in shown


def test_violation_lands_on_the_entry_span_only(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """Child spans of the request do not repeat the event."""
    tracer, exporter = spans
    headers = [(b"baggage", b"tenant.id=x")]
    scope = {"type": "http", "client": ("203.0.113.9", 1), "headers": headers}
    ctx = composite(OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key).extract(
        scope, context=otel_context.Context(), getter=ScopeGetter()
    )
    with tracer.start_as_current_span("server", context=ctx), tracer.start_as_current_span("child"):
        pass
    events = {s.name: violations(s) for s in exporter.get_finished_spans()}
    assert events == {"child": [], "server": [{"violation": "baggage_signature_missing"}]}


def test_trusted_peer_still_works_unsigned(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """A trusted peer's unsigned tenant is honoured (either is enough) without an event."""
    seen, span = receive(
        spans[0],
        {"baggage": "tenant.id=acme"},
        client="10.1.2.3",
        OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key,
        OTEL_DISTRO_TRUSTED_PEERS="10.0.0.0/8",
    )
    assert seen == {"tenant.id": "acme"} and violations(span) == []


def test_require_signature_overrides_trusted_peers(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """With REQUIRE_SIGNATURE a trusted address alone is not enough."""
    seen, span = receive(
        spans[0],
        {"baggage": "tenant.id=acme"},
        client="10.1.2.3",
        OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key,
        OTEL_DISTRO_TRUSTED_PEERS="10.0.0.0/8",
        OTEL_DISTRO_BAGGAGE_REQUIRE_SIGNATURE="true",
    )
    assert seen == {} and violations(span) == [{"violation": "baggage_signature_missing"}]


def test_require_signature_still_accepts_a_valid_one(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """REQUIRE_SIGNATURE accepts a verified signature from any peer."""
    tracer = spans[0]
    env = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": key, "OTEL_DISTRO_BAGGAGE_REQUIRE_SIGNATURE": "1"}
    seen, _ = receive(tracer, signed_headers(tracer, **env), **env)
    assert seen["tenant.id"] == "acme"


def test_without_keys_behaviour_is_unchanged(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    """No keys configured: untrusted protected keys are dropped quietly, as before."""
    seen, span = receive(spans[0], {"baggage": "tenant.id=acme,plan=gold"})
    assert seen == {"plan": "gold"} and span.events == ()


def test_request_state_tenant_is_signed(key: str) -> None:
    """A tenant set in a request's state (not in baggage) is signed like baggage."""
    tracer = TracerProvider().get_tracer("test")
    env = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": key}
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("server", kind=SpanKind.SERVER) as server:
        begin_request(server)
        set_tenant(tenant_id="acme")
        with tracer.start_as_current_span("call", kind=SpanKind.CLIENT, attributes=INTERNAL):
            composite(**env).inject(carrier)
    seen, _ = receive(tracer, carrier, **env)
    assert seen == {"tenant.id": "acme"}


@pytest.mark.parametrize("added", ["TENANT.ID=evil", "tenant%2Eid=evil", "tenant.id=evil"])
def test_added_protected_member_invalidates_a_genuine_signature(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str, added: str
) -> None:
    """A variant spelling or duplicate of a protected key appended to signed baggage: bad_mac."""
    tracer = spans[0]
    env = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": key}
    headers = signed_headers(tracer, **env)
    headers["baggage"] += f",{added}"
    seen, span = receive(tracer, headers, **env)
    assert seen == {"plan": "gold"}
    assert violations(span) == [{"violation": "baggage_signature_bad_mac"}]


def test_signature_without_protected_entries_is_ignored(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """A stray signature with nothing to protect is dropped quietly; other entries stay."""
    seen, span = receive(
        spans[0],
        {"baggage": "plan=gold,otel_distro.sig=v1.k1.1.x"},
        OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=key,
    )
    assert seen == {"plan": "gold"} and span.events == ()


def test_signature_verified_when_baggage_comes_before_tracecontext(
    spans: tuple[trace.Tracer, InMemorySpanExporter], key: str
) -> None:
    """With ``OTEL_PROPAGATORS=baggage,tracecontext`` the trace id is read from the header."""
    tracer = spans[0]
    env = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": key}
    headers = signed_headers(tracer, **env)
    scope = {
        "type": "http",
        "client": ("203.0.113.9", 1),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    propagator = TrustedBaggagePropagator(load_settings(env))
    ctx = propagator.extract(scope, context=otel_context.Context(), getter=ScopeGetter())
    assert baggage.get_baggage("tenant.id", ctx) == "acme"
