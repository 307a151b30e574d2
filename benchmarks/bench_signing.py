"""Cost of signed baggage per request: signing on the way out, verifying on the way in.

Run: ``python -m benchmarks.bench_signing``.

* sign / verify   -- ``Keyring.sign`` and ``Keyring.verify`` alone, two protected entries;
* inject          -- the baggage propagator's ``inject`` under a client span (tenant, user
                     and one unprotected entry), with and without a signing key;
* extract         -- its ``extract`` of that header from an untrusted peer, with the key
                     (verifies, keeps the tenant) and without (drops the tenant);

each shown in microseconds and as the ratio signed / unsigned.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from otel_distro.baggage_signing import Keyring
from otel_distro.config import load_settings
from otel_distro.config._signing_keys import parse_signing_keys
from otel_distro.propagation import TrustedBaggagePropagator

ENTRIES = {"tenant.id": "tenant-4711", "user.id": "user-0815"}
TRACE = int(secrets.token_hex(16), 16)


def per_call(fn: Callable[[], Any], seconds: float = 1.0, repeat: int = 5) -> float:
    """Microseconds per call of ``fn`` (best of ``repeat`` runs of ~``seconds``/``repeat``)."""
    fn()
    runs = []
    for _ in range(repeat):
        calls = 0
        start = time.perf_counter()
        deadline = start + seconds / repeat
        while True:
            for _ in range(50):
                fn()
            calls += 50
            now = time.perf_counter()
            if now >= deadline:
                break
        runs.append((now - start) / calls * 1e6)
    return min(runs)


class _ScopeGetter:
    def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
        values = [v.decode() for k, v in carrier["headers"] if k.decode() == key]
        return values or None

    def keys(self, carrier: dict[str, Any]) -> list[str]:
        return [k.decode() for k, _ in carrier["headers"]]


def _propagation(env: dict[str, str]) -> tuple[float, float]:
    propagator = TrustedBaggagePropagator(load_settings(env))
    tracer = TracerProvider().get_tracer("bench")
    getter = _ScopeGetter()
    ctx = otel_context.Context()
    for key, value in {**ENTRIES, "plan": "gold"}.items():
        ctx = baggage.set_baggage(key, value, ctx)
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span(
            "GET", kind=SpanKind.CLIENT, attributes={"server.address": "10.0.0.7"}
        ) as span:
            carrier: dict[str, str] = {}
            inject = per_call(lambda: propagator.inject(carrier))
            trace_id = span.get_span_context().trace_id
            traceparent = f"00-{trace_id:032x}-{secrets.token_hex(8)}-01"
    finally:
        otel_context.detach(token)
    scope = {
        "type": "http",
        "client": ("203.0.113.9", 4242),
        "headers": [
            (b"traceparent", traceparent.encode()),
            (b"baggage", carrier["baggage"].encode()),
        ],
    }
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = TraceContextTextMapPropagator().extract(scope, otel_context.Context(), getter)
    extract = per_call(lambda: propagator.extract(scope, parent, getter))
    return inject, extract


def main() -> None:
    ring = Keyring(parse_signing_keys(f"k1:{secrets.token_urlsafe(32)}"))
    token = ring.sign(ENTRIES, TRACE)
    sign = per_call(lambda: ring.sign(ENTRIES, TRACE))
    verify = per_call(lambda: ring.verify(token, ENTRIES, TRACE))
    print(f"sign                   {sign:7.2f} us")
    print(f"verify                 {verify:7.2f} us")
    key = {"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": f"k1:{secrets.token_urlsafe(32)}"}
    plain_inject, plain_extract = _propagation({})
    signed_inject, signed_extract = _propagation(key)
    print(
        f"inject   unsigned {plain_inject:7.2f} us  signed {signed_inject:7.2f} us  "
        f"ratio {signed_inject / plain_inject:.2f}x"
    )
    print(
        f"extract  unsigned {plain_extract:7.2f} us  signed {signed_extract:7.2f} us  "
        f"ratio {signed_extract / plain_extract:.2f}x"
    )
    print(f"per request (sign + verify) {sign + verify:.1f} us")


if __name__ == "__main__":
    main()
