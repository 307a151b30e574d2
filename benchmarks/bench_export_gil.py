"""How long a request thread waits for the GIL while the export thread works on span batches.

Run: ``python -m benchmarks.bench_export_gil [seconds]`` (default 3 per variant).

One thread stands in for uvicorn's event loop: it sleeps 1 ms (as in ``epoll_wait``,
GIL released), then does about 0.2 ms of Python work (a request), and records how
late it woke: the time from the end of its sleep until it ran again.  Meanwhile a
second thread exports batches of 512 server spans (the ``bench_encoding`` ones)
through ``RedactingSpanExporter`` into an exporter that OTLP-encodes them, one after
the other, with a 5 ms gap between batches.  Variants:

* ``no export``           -- the waker alone (the baseline);
* ``stock, one go``       -- the SDK's encoder, redaction without slices (before);
* ``direct, one go``      -- the direct span encoder, no slices;
* ``direct, slices``      -- the direct encoder, redaction and encoding in slices of
  ``SLICE`` spans with ``time.sleep(PAUSE)`` between them (what the distro runs);
* ``direct, slices+nap``  -- the same with a 0.1 ms pause instead of 0.

Figures are the waker's lateness p50/p99/max in milliseconds over interleaved rounds,
and the export thread's spans per second (the price of the pauses).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from benchmarks.bench_encoding import server_spans
from otel_distro.exporters import _slices
from otel_distro.exporters._otlp_spans import _encode_spans, use_fast_span_encoder
from otel_distro.exporters.redacting import RedactingSpanExporter
from otel_distro.redaction import Redactor

BATCH = 512
SLEEP = 0.001
WORK = 0.0002
GAP = 0.005


class _Encoding(SpanExporter):
    """Encodes each batch as the OTLP/HTTP exporter would, and sends nothing."""

    def __init__(self, encode: Callable[[Sequence[ReadableSpan]], object]) -> None:
        self._encode = encode

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._encode(spans).SerializePartialToString()  # type: ignore[attr-defined]
        return SpanExportResult.SUCCESS


@contextmanager
def _slicing(size: int, pause: float) -> Iterator[None]:
    before = _slices.SLICE, _slices.PAUSE
    _slices.SLICE, _slices.PAUSE = size, pause
    try:
        yield
    finally:
        _slices.SLICE, _slices.PAUSE = before


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def run(
    exporter: SpanExporter | None, spans: list[ReadableSpan], seconds: float
) -> tuple[list[float], float]:
    """The waker's lateness samples (ms) and the exporter's spans per second."""
    stop = threading.Event()
    exported = [0]

    def export_loop() -> None:
        assert exporter is not None
        while not stop.is_set():
            exporter.export(spans)
            exported[0] += len(spans)
            time.sleep(GAP)

    worker = threading.Thread(target=export_loop, daemon=True) if exporter else None
    if worker is not None:
        worker.start()
    late: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        due = time.perf_counter() + SLEEP
        time.sleep(SLEEP)
        late.append((time.perf_counter() - due) * 1000)
        _busy(WORK)
    elapsed = time.perf_counter() - start
    stop.set()
    if worker is not None:
        worker.join()
    return late, exported[0] / elapsed


def main(argv: list[str]) -> None:
    seconds = float(argv[0]) if argv else 3.0
    rounds = int(argv[1]) if len(argv) > 1 else 3
    spans = server_spans(BATCH)
    use_fast_span_encoder()
    redactor = Redactor()
    unsliced = 10**9
    variants: dict[str, tuple[SpanExporter | None, int, float]] = {
        "no export": (None, unsliced, 0.0),
        "stock, one go": (RedactingSpanExporter(_Encoding(encode_spans), redactor), unsliced, 0.0),
        "direct, one go": (
            RedactingSpanExporter(_Encoding(_encode_spans), redactor),
            unsliced,
            0.0,
        ),
        "direct, slices": (
            RedactingSpanExporter(_Encoding(_encode_spans), redactor),
            _slices.SLICE,
            _slices.PAUSE,
        ),
        "direct, slices+nap": (
            RedactingSpanExporter(_Encoding(_encode_spans), redactor),
            _slices.SLICE,
            0.0001,
        ),
    }
    late: dict[str, list[float]] = {name: [] for name in variants}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(rounds):
        names = list(variants)
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            exporter, size, pause = variants[name]
            with _slicing(size, pause):
                samples, rate = run(exporter, spans, seconds)
            late[name].extend(samples)
            rates[name].append(rate)
    print(
        f"request-thread wake-up lateness while batches of {BATCH} spans are redacted and"
        f" encoded (slice {_slices.SLICE}, {rounds} rounds of {seconds:g} s):"
    )
    print(f"  {'variant':20} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'spans/s':>9}")
    for name, samples in late.items():
        q = statistics.quantiles(samples, n=100)
        rate = statistics.median(rates[name])
        print(f"  {name:20} {q[49]:8.3f} {q[98]:8.3f} {max(samples):8.2f} {rate:9,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
