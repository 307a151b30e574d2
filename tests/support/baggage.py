"""Outbound baggage as the distro's propagator injects it under a given span."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from otel_distro.config import load_settings
from otel_distro.propagation import TrustedBaggagePropagator

__all__ = ["inject_under"]

_tracer = TracerProvider().get_tracer("tests.support.baggage")


def inject_under(
    kind: SpanKind, attributes: Mapping[str, str], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Headers injected for ``tenant.id=acme`` baggage under a span of ``kind``/``attributes``."""
    propagator = TrustedBaggagePropagator(load_settings(env or {}))
    carrier: dict[str, str] = {}
    with _tracer.start_as_current_span("op", kind=kind, attributes=dict(attributes)):
        token = otel_context.attach(baggage.set_baggage("tenant.id", "acme"))
        try:
            propagator.inject(carrier)
        finally:
            otel_context.detach(token)
    return carrier
