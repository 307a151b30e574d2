"""Added cost per call of ``create_external_client`` versus a bare ``httpx.Client``.

Every variant sends the same GET through an in-memory ``httpx.MockTransport`` (no
network, so only client-side work is measured):

* ``bare``       - ``httpx.Client``, no instrumentation;
* ``contrib``    - ``httpx.Client`` under the contrib httpx instrumentation
  (``instrument_client``: a span and a duration point per call);
* ``factory``    - ``create_external_client``: span with events, two metric instruments,
  redacted URL and headers, the ``external_http_call`` record (handed to a null sink:
  the logging pipeline's own cost is ``bench_logging``'s subject).

Spans go to a batch processor with a null exporter; metrics to an in-memory reader.
Results are per-call microseconds and ratios against ``bare`` from the same run, best
of several rounds.

Run: ``python -m benchmarks.bench_http_client``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

CALLS = 1000
ROUNDS = 7


def _providers() -> tuple[Any, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Null(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Null()))
    return tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()])


def _rounds(
    variants: dict[str, tuple[Callable[[], Any], Callable[[bool], None]]],
) -> dict[str, float]:
    """Best per-call seconds of each variant; rounds interleave the variants (noise hits all)."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(ROUNDS):
        for name, (call, switch) in variants.items():
            switch(True)
            try:
                call()  # warm
                started = time.perf_counter()
                for _ in range(CALLS):
                    call()
                best[name] = min(best[name], (time.perf_counter() - started) / CALLS)
            finally:
                switch(False)
    return best


def main() -> None:
    os.environ.setdefault("ENVIRONMENT", "production")
    import httpx

    from otel_distro.http import _hooks, create_external_client

    _hooks._emit = lambda level, event, fields: None

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    headers = {"Authorization": "Bearer benchmark-token-0123456789", "Accept": "application/json"}
    url = "https://api.example.com/v1/charges?page=2&api_key=benchmark-key"
    tracer_provider, meter_provider = _providers()
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    def nothing(on: bool) -> None:
        return None

    bare = httpx.Client(transport=httpx.MockTransport(handler))
    contrib = httpx.Client(transport=httpx.MockTransport(handler))
    HTTPXClientInstrumentor.instrument_client(
        contrib, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    factory = create_external_client(
        "billing",
        transport=httpx.MockTransport(handler),
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    try:
        results = _rounds(
            {
                "bare": (lambda: bare.get(url, headers=headers), nothing),
                "contrib": (lambda: contrib.get(url, headers=headers), nothing),
                "factory": (lambda: factory.get(url, headers=headers), nothing),
            }
        )
    finally:
        for client in (bare, contrib, factory):
            client.close()
    base = results["bare"]
    print(f"{'variant':<10} {'us/call':>9} {'added us':>9} {'x bare':>7}")
    for name, seconds in results.items():
        added = (seconds - base) * 1e6
        print(f"{name:<10} {seconds * 1e6:>9.1f} {added:>9.1f} {seconds / base:>7.2f}")
    tracer_provider.shutdown()
    meter_provider.shutdown()


if __name__ == "__main__":
    main()
