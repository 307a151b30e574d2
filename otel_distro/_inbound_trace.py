"""Untrusted inbound trace context: a new trace, linked to the client's, for untrusted peers.

With ``OTEL_DISTRO_INBOUND_TRACE_CONTEXT=trusted_peers`` (for public-facing
services), a ``traceparent`` from a peer outside ``OTEL_DISTRO_TRUSTED_PEERS`` is
not adopted: the request starts a new trace, so a client cannot choose our trace
ids or force sampling (the root sampler decides).  The client's context is kept
as a link on the server span (attribute ``otel_distro.link=untrusted_client``),
so the two traces can still be joined.  Carriers that are not ASGI requests
(message headers, for example) are internal and keep the default behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import trace
from opentelemetry.context import Context, create_key, get_current, get_value, set_value
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.sdk.trace import Span, SpanProcessor

from otel_distro._report import internal_error
from otel_distro.config._parsers import Network

__all__ = ["LINK_ATTRIBUTE", "UntrustedClientLinks", "UntrustedTraceContext"]

LINK_ATTRIBUTE = "otel_distro.link"
_CLIENT_CONTEXT = create_key("otel_distro.untrusted_client_context")


def _trusted(carrier: object, networks: Iterable[Network]) -> bool | None:
    """True/False for an ASGI request from a trusted/untrusted peer; None if not a request."""
    from otel_distro.propagation import _ip_in, peer_address

    if not (isinstance(carrier, dict) and carrier.get("type") in ("http", "websocket")):
        return None
    peer = peer_address(carrier)
    return peer is not None and _ip_in(peer, networks)


class UntrustedTraceContext(TextMapPropagator):
    """Wraps the W3C trace-context propagator: untrusted peers' context is only linked."""

    def __init__(self, inner: TextMapPropagator, trusted_peers: tuple[Network, ...]) -> None:
        self._inner = inner
        self._trusted_peers = trusted_peers

    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        base = get_current() if context is None else context
        extracted = self._inner.extract(carrier, context, getter)
        try:
            if _trusted(carrier, self._trusted_peers) is not False:
                return extracted
            client = trace.get_current_span(extracted).get_span_context()
            if not client.is_valid:
                return base
            return set_value(_CLIENT_CONTEXT, client, base)
        except Exception:
            internal_error("inbound_trace.extract")
            return base

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        self._inner.inject(carrier, context, setter)

    @property
    def fields(self) -> set[str]:
        return self._inner.fields


class UntrustedClientLinks(SpanProcessor):
    """Links a server span to the untrusted client's context kept by the propagator."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            client = get_value(_CLIENT_CONTEXT, parent_context)
            if isinstance(client, trace.SpanContext) and span.kind is trace.SpanKind.SERVER:
                span.add_link(client, {LINK_ATTRIBUTE: "untrusted_client"})
        except Exception:
            internal_error("inbound_trace.link")
