"""Per-request cost of the distro vs plain ``opentelemetry-instrument`` defaults, in-process.

Each variant runs in its own subprocess (global providers are process-wide) in
the same session, calling a FastAPI app directly through ASGI (no network):

* ``bare``   - no instrumentation at all;
* ``stock``  - FastAPIInstrumentor + SDK as ``opentelemetry-instrument`` sets it up
  by default (server span plus the ASGI send/receive spans, batch export);
* ``distro`` - the distro's configurator: one span per request, tenant and
  access-log processors, redaction in the export thread, with the contrib ASGI
  middleware (``OTEL_DISTRO_SERVER_MIDDLEWARE=contrib``);
* ``lean``   - the same with the distro's own server middleware (the default).

Exporters are null sinks so only in-process work is measured.  Results are
ratios against ``stock`` from the same run; this machine is noisy, so each
variant takes the best of several rounds, over passes that interleave the variants.

Run: ``python -m benchmarks.bench_request``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

REQUESTS = 2000
ROUNDS = 5


def _null_span_exporter() -> Any:
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Null(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

            encode_spans(spans).SerializeToString()
            return SpanExportResult.SUCCESS

    return Null()


def _setup(variant: str) -> None:
    os.environ.update(
        {
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "ENVIRONMENT": "production",
            "LOG_LEVEL": "WARNING",
        }
    )
    if variant == "bare":
        return
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if variant == "stock":
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(_null_span_exporter()))
        trace.set_tracer_provider(provider)
        FastAPIInstrumentor().instrument()
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    from otel_distro.asgi import server_request_hook
    from otel_distro.configurator import configure_sdk

    configure_sdk()
    provider = trace.get_tracer_provider()
    from otel_distro.configurator import _export_span_processor

    provider.add_span_processor(_export_span_processor(_null_span_exporter()))  # type: ignore[attr-defined]
    from otel_distro.asgi import chain_hooks, mark_escaping_exceptions

    mark_escaping_exceptions()  # as the distro does before either middleware
    if variant == "lean":
        from otel_distro._server_install import install_lean

        install_lean(chain_hooks(server_request_hook))
        return
    FastAPIInstrumentor().instrument(
        server_request_hook=server_request_hook, exclude_spans=["receive", "send"]
    )


def _app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/sites/{site_id}")
    async def read_site(site_id: str) -> dict[str, str]:
        return {"id": site_id, "name": "example"}

    return app


async def _drive(app: Any, count: int) -> float:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/sites/site-1",
        "raw_path": b"/sites/site-1",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"user-agent", b"bench"), (b"x-request-id", b"abc")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(50):  # warm-up: route caches, lazy imports
        await app(dict(scope), receive, send)
    start = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - start) / count * 1e6


def _child(variant: str) -> None:
    _setup(variant)
    app = _app()
    best = min(asyncio.run(_drive(app, REQUESTS)) for _ in range(ROUNDS))
    print(json.dumps({"variant": variant, "us_per_request": best}))


VARIANTS = ("bare", "stock", "distro", "lean")
PASSES = 3  # every variant once per pass, in a rotated order; the best pass counts


def main() -> None:
    results: dict[str, float] = {}
    for index in range(PASSES):
        order = VARIANTS[index % len(VARIANTS) :] + VARIANTS[: index % len(VARIANTS)]
        for variant in order:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_request", variant],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            value = json.loads(out.strip().splitlines()[-1])["us_per_request"]
            results[variant] = min(value, results.get(variant, value))
    stock = results["stock"]
    print(f"{'variant':8} {'us/request':>11} {'vs stock':>9}")
    for variant in VARIANTS:
        print(f"{variant:8} {results[variant]:11.1f} {results[variant] / stock:9.2f}x")
    added = {variant: results[variant] - results["bare"] for variant in VARIANTS}
    print(
        f"added by instrumentation: stock {added['stock']:.1f} us, "
        f"distro (contrib middleware) {added['distro']:.1f} us "
        f"({added['distro'] / added['stock']:.2f}x), "
        f"lean {added['lean']:.1f} us ({added['lean'] / added['stock']:.2f}x; "
        f"{added['lean'] / added['distro']:.2f}x distro's)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _child(sys.argv[1])
    else:
        main()
