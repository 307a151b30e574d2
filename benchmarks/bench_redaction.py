"""Cost of redaction: a typical span, dirty values, and adversarial inputs, in one run.

Run: ``python -m benchmarks.bench_redaction``.

* clean span   -- ``redact_mapping`` on ~12 typical server-span attributes without
                  secrets: ``warm`` repeats the same values (clean-value cache hits),
                  ``cold`` makes every string unique (prefilter and patterns run);
* rebuild      -- ``redact_span`` on a finished SDK span (attributes, name, status,
                  events, links), compared with OTLP-encoding that same span;
* dirty        -- the same span with five secrets planted;
* log message  -- ``redact_text`` on a typical message, with and without a secret;
* adversarial  -- 256 KB / 512 KB / 1 MB inputs built to trigger backtracking, with
                  ``max_scan`` raised to 16 MB so the whole input is scanned: the
                  1 MB / 512 KB time ratio should stay near 2 (linear), and peak
                  memory is shown as a multiple of the input size.
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.exporters.redacting import redact_span
from otel_distro.redaction import Redactor

_counter = itertools.count()


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


def once(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Seconds for one call of ``fn`` (best of ``repeat``)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def server_attributes(unique: bool) -> dict[str, Any]:
    n = next(_counter) if unique else 42
    return {
        "http.request.method": "GET",
        "url.scheme": "https",
        "url.path": f"/api/v1/items/{n}",
        "url.query": f"page={n % 7}&size=20",
        "http.route": "/api/v1/items/{item_id}",
        "server.address": "api.example.com",
        "server.port": 443,
        "client.address": "10.1.2.3",
        "client.port": 51234,
        "user_agent.original": f"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.{n}.0",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
    }


DIRTY = {
    "http.request.header.authorization": ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",),
    "url.full": "https://bob:pw@api.example.com/x?token=abc&page=2",
    "db.statement": "UPDATE users SET password='hunter2' WHERE id=4",
    "payment.note": "card 4111 1111 1111 1111 charged",
    "aws.hint": "AKIAIOSFODNN7EXAMPLE",
}


def finished_span(attributes: dict[str, Any]) -> ReadableSpan:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("bench").start_as_current_span("GET /api/v1/items/{item_id}",
                                                            attributes=attributes):
        pass
    return memory.get_finished_spans()[0]


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "plain letters": lambda n: "a" * n,
    "eyJ repeated (JWT)": lambda n: "eyJ" * (n // 3),
    "key= repeated": lambda n: "a=" * (n // 2),
    "password= repeated": lambda n: "password=" * (n // 9),
    "unclosed quotes": lambda n: 'password="' + "x" * n,
    "digits with spaces": lambda n: "4 " * (n // 2),
    "AKIA repeated": lambda n: "AKIA" * (n // 4),
    "BEGIN repeated": lambda n: "-----BEGIN " * (n // 11),
    "scheme:// repeated": lambda n: "a://" * (n // 4),
    "Bearer repeated": lambda n: "Bearer " * (n // 7),
    "IBAN-ish": lambda n: "GB82 " * (n // 5),
    "nested [ (JSON)": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "nested objects": lambda n: '{"a":' * (n // 6) + "1" + "}" * (n // 6),
    "XML open tags": lambda n: "<password " * (n // 10),
    "percent pairs": lambda n: "%3Dpassword" * (n // 11),
    "word then token": lambda n: "password aB3" * (n // 12),
    "path tokens": lambda n: "/reset/aB3dE5fG7hJ9kL1mN" * (n // 24),
    "KeyError repeated": lambda n: "KeyError: " * (n // 10),
    "ApiKey repeated": lambda n: "Authorization: ApiKey " * (n // 22),
    "JWK members": lambda n: '"kty" "d": ' * (n // 11),
    "input tags": lambda n: '<input name="password" value="x' * (n // 31),
    "form-data parts": lambda n: 'form-data; name="password"\r\n' * (n // 28),
    "mysql -p words": lambda n: "mysql a " * (n // 8),
    "prefixed tokens": lambda n: "tok_" * (n // 4),
    "name/value pairs": lambda n: '"name": "password", ' * (n // 20),
    "userinfo with #": lambda n: "a://u:p#" * (n // 8),
    "quoted runs": lambda n: "'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8 " * (n // 30),
}


def main() -> None:
    redactor = Redactor()
    print("clean span (12 attributes, no secrets), redact_mapping:")
    warm = per_call(lambda: redactor.redact_mapping(server_attributes(False)))
    cold = per_call(lambda: redactor.redact_mapping(server_attributes(True)))
    build = per_call(lambda: server_attributes(True))
    span = finished_span(server_attributes(False))
    encode = per_call(lambda: encode_spans([span]).SerializeToString())
    cold -= build
    print(f"  warm {warm:6.1f} us   cold {cold:6.1f} us (building the dict excluded)"
          f"   as a share of OTLP-encoding that span: warm {warm / encode:4.2f}"
          f" cold {cold / encode:4.2f}")

    rebuild = per_call(lambda: redact_span(span, redactor))
    print(f"rebuild clean span {rebuild:6.1f} us   OTLP encode {encode:6.1f} us"
          f"   ratio rebuild/encode {rebuild / encode:4.2f}")

    dirty_span = finished_span({**server_attributes(False), **DIRTY})
    dirty = per_call(lambda: redact_span(dirty_span, redactor))
    dirty_encode = per_call(lambda: encode_spans([dirty_span]).SerializeToString())
    print(f"rebuild dirty span {dirty:6.1f} us   OTLP encode {dirty_encode:6.1f} us"
          f"   ratio {dirty / dirty_encode:4.2f}   dirty/clean {dirty / rebuild:4.1f}")

    message = "user 1842 fetched 12 items from the catalogue in 35 ms (cache hit)"
    secret = "login failed for bob: password=hunter2 from https://h/x?token=abc"
    clean_msg = per_call(lambda: redactor.redact_text(f"{message} {next(_counter)}"))
    dirty_msg = per_call(lambda: redactor.redact_text(f"{secret} {next(_counter)}"))
    print(f"log message clean {clean_msg:5.1f} us   with secrets {dirty_msg:5.1f} us")

    print("\nadversarial inputs, whole input scanned (max_scan=16 MB):")
    print(f"  {'input':22} {'256KB ms':>9} {'512KB ms':>9} {'1MB ms':>8} {'1MB/512KB':>10}"
          f" {'peak/input':>10}")
    full = Redactor(max_scan=16 * 1024 * 1024)
    for name, make in ADVERSARIAL.items():
        times = []
        for size in (256 * 1024, 512 * 1024, 1024 * 1024):
            text = make(size)
            times.append(once(lambda text=text: full.redact_value(text, "body")) * 1000)
        text = make(1024 * 1024)
        tracemalloc.start()
        full.redact_value(text, "body")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {name:22} {times[0]:9.1f} {times[1]:9.1f} {times[2]:8.1f}"
              f" {times[2] / times[1]:10.2f} {peak / len(text):10.1f}")
    default = Redactor()
    worst = max(once(lambda make=make: default.redact_value(make(1024 * 1024), "body"))
                for make in ADVERSARIAL.values())
    print(f"\nwith the default max_scan (64 KB) the slowest 1 MB input takes {worst * 1000:.1f} ms")
    deep = '{"k": ' * 5000 + '"leaf"' + "}" * 5000
    took = once(lambda: default.redact_value(deep, "b")) * 1000
    print(f"5000-level JSON document: {took:.1f} ms")


if __name__ == "__main__":
    main()
