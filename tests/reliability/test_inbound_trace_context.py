"""The untrusted-peer trace-context policy applies to inbound requests only."""

from __future__ import annotations

import secrets

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import asgi_getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_distro._inbound_trace import UntrustedTraceContext
from otel_distro.config._parsers import parse_networks


def header() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def propagator() -> UntrustedTraceContext:
    return UntrustedTraceContext(TraceContextTextMapPropagator(), parse_networks("10.0.0.0/8"))


def adopted_trace_id(context: object) -> str | None:
    span_context = trace.get_current_span(context).get_span_context()  # type: ignore[arg-type]
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None


def test_message_headers_keep_their_context() -> None:
    """A carrier that is not an ASGI request (message headers) is adopted as usual."""
    trace_id, value = header()
    context = propagator().extract({"traceparent": value})
    assert adopted_trace_id(context) == trace_id


def test_request_from_a_trusted_peer_is_adopted() -> None:
    """An ASGI request from a trusted network continues the client's trace."""
    trace_id, value = header()
    scope = {
        "type": "http",
        "client": ("10.1.2.3", 4000),
        "headers": [(b"traceparent", value.encode())],
    }
    assert adopted_trace_id(propagator().extract(scope, getter=asgi_getter)) == trace_id


def test_request_from_an_untrusted_peer_is_not_adopted() -> None:
    """An ASGI request from elsewhere (or an unknown peer) starts without a parent."""
    _trace_id, value = header()
    for client in (("203.0.113.9", 4000), None):
        scope = {"type": "http", "client": client, "headers": [(b"traceparent", value.encode())]}
        assert adopted_trace_id(propagator().extract(scope, getter=asgi_getter)) is None
