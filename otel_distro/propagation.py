"""Propagators: trust rules for inbound baggage, scope rules for outbound baggage.

Inbound ``baggage`` headers are attacker-controlled: an oversized or malformed
header is dropped whole, and protected keys (``tenant.id``, ``user.id``, ...)
are kept only when the peer address is in ``OTEL_DISTRO_TRUSTED_PEERS``.
Outbound, baggage is injected only when the destination of the current client or
producer span (httpx, aio-pika, ...) is allowed by ``OTEL_DISTRO_BAGGAGE_PROPAGATE_TO``
(every host the span names; any other span kind means "destination unknown");
``traceparent`` is untouched and flows everywhere.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping
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
    """The client address of an ASGI scope carrier, else None (unknown peer)."""
    if isinstance(carrier, Mapping) and carrier.get("type") in ("http", "websocket"):
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
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
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
            peer = peer_address(carrier)
            trusted = peer is not None and _ip_in(peer, self._trusted)
            for key, value in entries.items():
                if not trusted and _normalized_key(key) in self._protected:
                    continue
                context = baggage.set_baggage(key, value, context=context)
        except Exception:  # noqa: S110 - hostile input never breaks a request
            pass
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
            if not entries:
                return
            header = ",".join(
                f"{quote(key, safe='')}={quote(value, safe='')}"
                for key, value in list(entries.items())[:MAX_ENTRIES]
            )
            if len(header) <= self._max_bytes:
                setter.set(carrier, BAGGAGE_HEADER, header)
        except Exception:  # noqa: S110 - propagation problems never break a call
            pass

    @property
    def fields(self) -> set[str]:
        return {BAGGAGE_HEADER}


class ContainedPropagator(TextMapPropagator):
    """Wraps another propagator so that its failures never reach the request.

    ``CompositePropagator`` calls each member unguarded: one raising on a hostile
    header (a third-party propagator from ``OTEL_PROPAGATORS``) would fail every
    request.  A failing extract leaves the context as it was; a failing inject
    adds nothing.
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
        except Exception:
            return get_current() if context is None else context

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = textmap_default_setter,
    ) -> None:
        try:
            self.inner.inject(carrier, context=context, setter=setter)
        except Exception:  # noqa: S110 - propagation problems never break a call
            pass

    @property
    def fields(self) -> set[str]:
        try:
            return set(self.inner.fields)
        except Exception:
            return set()
