"""Cost per log record: plain structlog JSON vs otel-distro's full path, in one process.

Run: ``python -m benchmarks.bench_logging [records] [rounds]`` (defaults 20000, 3).

* plain      -- structlog ``add_log_level`` + ``TimeStamper(iso)`` + ``JSONRenderer``;
* caller     -- otel-distro on the calling thread (clean, snapshot context, queue):
                CPU time of that thread only (``time.thread_time``);
* full       -- the whole path in all threads, as the distro runs it: the above plus
                the log worker (request context, redaction, JSON line, OTel record
                queued into the ``BatchLogRecordProcessor``) and the direct OTLP
                protobuf encoding in the export thread (``time.process_time``);
* filtered   -- a ``debug()`` call below ``LOG_LEVEL=INFO``;
* stock encoder -- the full path encoded by the SDK's own OTLP encoder instead;
* stock      -- for comparison, plain structlog plus a processor emitting each event
                through the SDK on the caller's thread, the way the contrib bridge
                does (no redaction, no ids in the line), encoded by the SDK encoder.

The provider has the distro's own log processors (tenant attributes, redaction
for foreign scopes) before the batch processor, as the configurator sets it up.

Every record is logged inside an active span with tenant baggage, as in a request.
Each measurement is repeated in interleaved rounds and the best (least disturbed by
other processes) is kept; ratios are against ``plain`` measured in the same run.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from opentelemetry import baggage, context
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import set_span_in_context

from otel_distro import logging as logs
from otel_distro.config import load_settings
from otel_distro.exporters._otlp_logs import encode_logs_request

TARGET_FULL = 2.5
TARGET_CALLER = 1.5


class Null(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class EncodingExporter(LogRecordExporter):
    """Encodes every batch to OTLP protobuf bytes, then drops them; times itself."""

    def __init__(self, fast: bool = False) -> None:
        self.records = 0
        self.seconds = 0.0
        self.fast = fast

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        start = time.thread_time()
        if self.fast:
            encode_logs_request(batch)
        else:
            encode_logs(batch).SerializeToString()
        self.seconds += time.thread_time() - start
        self.records += len(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def call(log: Any, n: int) -> None:
    log.info("site_created", site_id=n, site_name="acme", plan="pro", duration_ms=12.5)


def per_record(fn: Callable[[int], None], n: int, clock: Callable[[], float]) -> float:
    start = clock()
    for i in range(n):
        fn(i)
    return (clock() - start) / n * 1e6


def plain(n: int) -> float:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(20),
        logger_factory=structlog.PrintLoggerFactory(Null()),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger("bench")
    per_record(lambda i: call(log, i), 1000, time.perf_counter)
    result = per_record(lambda i: call(log, i), n, time.process_time)
    structlog.reset_defaults()
    return result


def provider_for(n: int, fast: bool = False) -> tuple[LoggerProvider, EncodingExporter]:
    exporter = EncodingExporter(fast)
    provider = LoggerProvider(shutdown_on_exit=False)
    try:
        from otel_distro.processors.baggage import BaggageAttributesLogProcessor
        from otel_distro.processors.redaction import RedactingLogRecordProcessor

        provider.add_log_record_processor(BaggageAttributesLogProcessor(("tenant.id", "user.id")))
        provider.add_log_record_processor(RedactingLogRecordProcessor())
    except ImportError:
        pass
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            exporter, max_queue_size=4 * n, max_export_batch_size=512, schedule_delay_millis=50
        )
    )
    return provider, exporter


def in_request() -> object:
    span = TracerProvider().get_tracer("bench").start_span("request")
    ctx = baggage.set_baggage("tenant.id", "t-42", set_span_in_context(span))
    return context.attach(baggage.set_baggage("user.id", "u-7", ctx))


def measure(
    log: Any, provider: LoggerProvider, exporter: EncodingExporter, n: int
) -> dict[str, float]:
    per_record(lambda i: call(log, i), 1000, time.perf_counter)
    provider.force_flush()
    caller = per_record(lambda i: call(log, i), n, time.thread_time)
    provider.force_flush()
    exporter.seconds = 0.0
    start = time.process_time()
    for i in range(n):
        call(log, i)
    provider.force_flush()
    full = (time.process_time() - start) / n * 1e6
    return {"caller": caller, "full": full, "encode": exporter.seconds / n * 1e6}


def ours(n: int, profile: bool, fast: bool = False) -> dict[str, float]:
    provider, exporter = provider_for(n, fast)
    logs.configure(load_settings({"ENVIRONMENT": "production"}), provider)
    log = logs.get_logger("bench")
    token = in_request()
    try:
        result = measure(log, provider, exporter, n)
        result["filtered"] = per_record(lambda i: log.debug("noise", i=i), n, time.process_time)
        if profile:
            profile_worker(log, n)
    finally:
        context.detach(token)  # type: ignore[arg-type]
        logs.reset()
        provider.shutdown()
    return result


def profile_worker(log: Any, n: int) -> None:
    """Profile caller + worker work in this thread (the worker thread is held off)."""
    emitter = logs._emitter
    emitter._awake = True  # the worker is not woken; flush() drains here
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        call(log, i)
    emitter.flush()
    profiler.disable()
    emitter._awake = False
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def stock(n: int) -> dict[str, float]:
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.context import get_current

    provider, exporter = provider_for(n)
    otel_logger = provider.get_logger("stock.bridge")

    def emit(logger: Any, method: str, event_dict: Any) -> Any:
        attributes = {k: v for k, v in event_dict.items() if k not in ("event", "level")}
        otel_logger.emit(
            LogRecord(
                timestamp=time.time_ns(),
                context=get_current(),
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                body=event_dict.get("event"),
                attributes=attributes,
            )
        )
        return event_dict

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            emit,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(20),
        logger_factory=structlog.PrintLoggerFactory(Null()),
        cache_logger_on_first_use=True,
    )
    token = in_request()
    try:
        return measure(structlog.get_logger("bench"), provider, exporter, n)
    finally:
        context.detach(token)  # type: ignore[arg-type]
        structlog.reset_defaults()
        provider.shutdown()


def best_of(rounds: int, n: int, profile: bool) -> dict[str, float]:
    """Each measurement repeated in interleaved rounds; the best (least disturbed) wins."""
    runs: dict[str, list[float]] = {}
    for index in range(rounds):
        distro = ours(n, profile and index == rounds - 1, fast=True)
        sdk_encoder = ours(n, False)
        baseline = stock(n)
        measured = {
            "plain": plain(n),
            "caller": distro["caller"],
            "full": distro["full"],
            "encode": distro["encode"],
            "filtered": distro["filtered"],
            "full_stock_encoder": sdk_encoder["full"],
            "stock_caller": baseline["caller"],
            "stock_full": baseline["full"],
        }
        for key, value in measured.items():
            runs.setdefault(key, []).append(value)
        runs.setdefault("ratio", []).append(distro["full"] / measured["plain"])
    best = {key: min(values) for key, values in runs.items()}
    best["ratio_median"] = sorted(runs["ratio"])[len(runs["ratio"]) // 2]
    return best


def main(argv: list[str]) -> int:
    numbers = [int(arg) for arg in argv if arg.isdigit()]
    n = numbers[0] if numbers else 20000
    rounds = numbers[1] if len(numbers) > 1 else 3
    stdout = sys.stdout
    sys.stdout = Null()
    try:
        r = best_of(rounds, n, "--profile" in argv)
    finally:
        sys.stdout = stdout
    base = r["plain"]
    print(f"records per measurement: {n}, best of {rounds} interleaved rounds")
    print(f"plain structlog JSON      {base:7.1f} us/record")
    print(
        f"otel-distro caller thread {r['caller']:7.1f} us/record  "
        f"ratio {r['caller'] / base:4.2f} (target <= {TARGET_CALLER})"
    )
    print(
        f"otel-distro full path     {r['full']:7.1f} us/record  "
        f"ratio {r['full'] / base:4.2f} (target <= {TARGET_FULL}; "
        f"median of per-round ratios {r['ratio_median']:4.2f})"
    )
    print(f"  of which OTLP encoding   {r['encode']:7.1f} us/record")
    print(
        f"  same with the SDK's stock encoder: full {r['full_stock_encoder']:7.1f} us/record  "
        f"ratio {r['full_stock_encoder'] / base:4.2f}"
    )
    print(f"filtered debug() call     {r['filtered']:7.2f} us/record")
    print(
        f"stock SDK bridge: caller  {r['stock_caller']:7.1f} us/record  ratio "
        f"{r['stock_caller'] / base:4.2f}; full {r['stock_full']:7.1f} us/record  ratio "
        f"{r['stock_full'] / base:4.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
