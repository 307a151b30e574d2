"""Propagators: trust rules for inbound baggage, scope rules for outbound baggage.

Inbound ``baggage`` headers are attacker-controlled: an oversized or malformed
header is dropped whole, and protected keys (``tenant.id``, ``user.id``, ...)
are kept only when the peer address is in ``OTEL_DISTRO_TRUSTED_PEERS`` or when
an ``otel_distro.sig`` entry signs them for this trace (:mod:`otel_distro.baggage_signing`);
with ``OTEL_DISTRO_BAGGAGE_REQUIRE_SIGNATURE`` only the signature counts.
Outbound, baggage is injected only when the destination of the current client or
producer span (httpx, aio-pika, ...) is allowed by ``OTEL_DISTRO_BAGGAGE_PROPAGATE_TO``
(every host the span names; any other span kind means "destination unknown");
``traceparent`` is untouched and flows everywhere.  With signing keys, an allowed
propagation carrying protected keys also carries their signature.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

from opentelemetry import baggage, trace
from opentelemetry.context import Context, get_current
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
)
from opentelemetry.propagators.textmap import (
    default_setter as textmap_default_setter,
)
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_distro._report import internal_error, report
from otel_distro._signature_events import with_violation
from otel_distro.baggage_signing import SIGNATURE_KEY, Keyring
from otel_distro.config import Network, Settings
from otel_distro.context import context_values
from otel_distro.response_headers import RequestIdResponsePropagator

__all__ = [
    "ContainedPropagator",
    "DestinationPolicy",
    "RequestIdResponsePropagator",
    "TrustedBaggagePropagator",
    "peer_address",
]

BAGGAGE_HEADER = "baggage"
MAX_ENTRIES = 180
_KEY = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_VALUE = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
_ENTRY = re.compile(rf"[ \t]*({_KEY})[ \t]*=[ \t]*({_VALUE})[ \t]*(;[^,]*)?")
_DESTINATION_KEYS = (
    "server.address",
    "net.peer.name",
    "network.peer.address",
    "net.sock.peer.addr",
)
_URL_KEYS = ("url.full", "http.url")
_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
_OUTBOUND_KINDS = (SpanKind.CLIENT, SpanKind.PRODUCER)


def peer_address(carrier: object) -> str | None:
    """The client address of an ASGI scope carrier, else None (unknown peer).

    A scope is a ``dict``; the message consumer hands its header table over read-only
    (a ``MappingProxyType``), so headers shaped like a scope (``type=http`` and a
    ``client`` in the trusted range, written by whoever published) are no peer.
    """
    if isinstance(carrier, dict) and carrier.get("type") in ("http", "websocket"):
        client = carrier.get("client")
        if isinstance(client, (tuple, list)) and client and isinstance(client[0], str):
            return client[0]
    return None


def _ip_in(address: str, networks: Iterable[Network]) -> bool:
    """Whether an address is in one of the networks; an IPv4-mapped IPv6 address
    (``::ffff:10.0.0.5``, how a dual-stack listener reports IPv4 peers) is its IPv4."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.strip("[]")
        )
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _normalized_key(key: str) -> str:
    """A baggage key as the most lenient reader might see it.

    Percent-decoded until stable (``tenant%252Eid`` decodes twice), control characters
    and spaces removed (``tenant.id%00``), lower-cased (``Tenant%2EId`` -> ``tenant.id``).
    """
    for _ in range(4):
        decoded = unquote(key)
        if decoded == key:
            break
        key = decoded
    return _INVISIBLE.sub("", key).lower()


def parse_baggage_header(header: str, max_bytes: int) -> dict[str, str] | None:
    """Strictly parse a W3C baggage header; None when it must be dropped whole."""
    if len(header.encode("utf-8", "replace")) > max_bytes:
        return None
    entries: dict[str, str] = {}
    members = header.split(",")
    if len(members) > MAX_ENTRIES:
        return None
    for member in members:
        if not member.strip():
            continue
        match = _ENTRY.fullmatch(member)
        if match is None:
            return None
        try:
            value = unquote(match.group(2), errors="strict")
        except UnicodeDecodeError:
            return None
        if _CONTROL.search(value) is not None:
            return None
        entries[match.group(1)] = value
    return entries


class DestinationPolicy:
    """Decides whether a host may receive baggage (host globs and CIDR blocks)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._networks: list[Network] = []
        self._globs: list[str] = []
        for pattern in patterns:
            try:
                self._networks.append(ipaddress.ip_network(pattern, strict=False))
            except ValueError:
                self._globs.append(pattern.lower())
        self._cache: dict[str, bool] = {}

    def allows(self, host: str | None) -> bool:
        if not host:
            return False
        host = host.lower().rstrip(".")
        cached = self._cache.get(host)
        if cached is not None:
            return cached
        # globs match host names only: ``*`` must not swallow ``/``, ``@``, ``%``, ``:``...
        allowed = _ip_in(host, self._networks) or (
            _HOSTNAME.fullmatch(host) is not None
            and any(fnmatch.fnmatchcase(host, glob) for glob in self._globs)
        )
        if len(self._cache) >= 1024:
            self._cache.clear()
        self._cache[host] = allowed
        return allowed


def destination_hosts(context: Context | None) -> list[str]:
    """Every remote host the current client/producer span names, from its attributes.

    Only CLIENT and PRODUCER spans describe a destination: a server span's
    ``server.address``/``http.url`` come from the inbound ``Host`` header (the
    caller's choice), and an internal span says nothing about where a call goes.
    """
    span = trace.get_current_span(context)
    if getattr(span, "kind", None) not in _OUTBOUND_KINDS:
        return []
    attributes = getattr(span, "attributes", None)
    if not attributes:
        return []
    hosts: list[str] = []
    for key in _DESTINATION_KEYS:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            hosts.append(value)
    for key in _URL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                host = None
            hosts.append(host or "")
    return hosts


class TrustedBaggagePropagator(TextMapPropagator):
    """W3C baggage with inbound trust checks and outbound destination scoping."""

    def __init__(self, settings: Settings) -> None:
        self._trusted: tuple[Network, ...] = settings.trusted_peers
        self._protected = frozenset(key.lower() for key in settings.protected_keys)
        self._max_bytes: int = settings.baggage_max_bytes
        self._destinations = DestinationPolicy(settings.baggage_propagate_to)
        self._request_keys = tuple(sorted(settings.protected_keys))
        self._keyring = Keyring(
            settings.baggage_signing_keys, settings.baggage_signature_ttl_seconds
        )
        self._require_signature = settings.baggage_require_signature
        self._verifies = self._keyring.active or self._require_signature

    # inbound ---------------------------------------------------------------

    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        if context is None:
            context = get_current()
        try:
            values = getter.get(carrier, BAGGAGE_HEADER)
            if not values:
                return context
            entries = parse_baggage_header(",".join(values), self._max_bytes)
            if not entries:
                return context
            token = entries.get(SIGNATURE_KEY)
            protected: dict[str, str] = {}
            for key in list(entries):
                normalized = _normalized_key(key)
                if normalized == SIGNATURE_KEY:
                    del entries[key]
                elif normalized in self._protected:
                    protected[key] = entries[key]
            peer = peer_address(carrier)
            trusted = (
                not self._require_signature and peer is not None and _ip_in(peer, self._trusted)
            )
            if protected and not trusted and self._verifies:
                trace_id = _inbound_trace_id(carrier, context, getter)
                reason = self._keyring.verify(token, protected, trace_id)
                if reason is None:
                    trusted = True
                else:
                    context = with_violation(context, reason, carrier)
            for key, value in entries.items():
                if not trusted and key in protected:
                    continue
                context = baggage.set_baggage(key, value, context=context)
        except Exception:  # hostile input never breaks a request
            internal_error("propagation.baggage.extract")
        return context

    # outbound --------------------------------------------------------------

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = textmap_default_setter,
    ) -> None:
        try:
            hosts = destination_hosts(context)
            # every host the span names must be allowed (a URL and an address that disagree)
            if not hosts or not all(self._destinations.allows(host) for host in hosts):
                return
            entries = {k: str(v) for k, v in baggage.get_all(context).items()}
            entries.update(context_values(self._request_keys, context))
            wire = [
                (quote(key, safe=""), value)
                for key, value in entries.items()
                if _normalized_key(key) != SIGNATURE_KEY
            ][: MAX_ENTRIES - 1 if self._keyring.active else MAX_ENTRIES]
            if not wire:
                return
            header = ",".join(f"{key}={quote(value, safe='')}" for key, value in wire)
            protected = {k: v for k, v in wire if _normalized_key(k) in self._protected}
            if protected and self._keyring.active:
                span_context = trace.get_current_span(context).get_span_context()
                token = self._keyring.sign(protected, span_context.trace_id)
                if token is not None:
                    header = f"{header},{SIGNATURE_KEY}={token}"
            if len(header) <= self._max_bytes:
                setter.set(carrier, BAGGAGE_HEADER, header)
        except Exception:  # propagation problems never break a call
            internal_error("propagation.baggage.inject")

    @property
    def fields(self) -> set[str]:
        return {BAGGAGE_HEADER}


def _inbound_trace_id(carrier: CarrierT, context: Context, getter: Getter[CarrierT]) -> int | None:
    """The trace being joined: from the context, else from the carrier's ``traceparent``."""
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        parent = TraceContextTextMapPropagator().extract(carrier, Context(), getter)
        span_context = trace.get_current_span(parent).get_span_context()
    return span_context.trace_id if span_context.is_valid else None


class ContainedPropagator(TextMapPropagator):
    """Wraps another propagator so that its failures never reach the request.

    ``CompositePropagator`` calls each member unguarded: one raising on a hostile
    header (a third-party propagator from ``OTEL_PROPAGATORS``) would fail every
    request.  A failing extract leaves the context as it was; a failing inject
    adds nothing; either is said once on stderr (the propagator's class and the
    exception type: the failure is not the distro's, so it is no internal error).
    """

    def __init__(self, inner: TextMapPropagator) -> None:
        self.inner = inner

    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        try:
            return self.inner.extract(carrier, context=context, getter=getter)
        except Exception as error:
            self._failed("extract", error)
            return get_current() if context is None else context

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = textmap_default_setter,
    ) -> None:
        try:
            self.inner.inject(carrier, context=context, setter=setter)
        except Exception as error:  # propagation problems never break a call
            self._failed("inject", error)

    @property
    def fields(self) -> set[str]:
        try:
            return set(self.inner.fields)
        except Exception as error:
            self._failed("fields", error)
            return set()

    def _failed(self, operation: str, error: Exception) -> None:
        report(
            f"propagator {type(self.inner).__name__} failed in {operation} "
            f"({type(error).__name__}); requests continue without it"
        )
