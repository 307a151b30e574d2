"""Cost per log record: plain structlog JSON vs otel-distro's full path, in one process.

Run: ``python -m benchmarks.bench_logging [records]``.

* plain      -- structlog ``add_log_level`` + ``TimeStamper(iso)`` + ``JSONRenderer``;
* caller     -- otel-distro on the calling thread (clean, context, redact, render,
                queue): CPU time of that thread only (``time.thread_time``);
* full       -- the whole path in all threads: the above plus the SDK emit
                (``LogRecord``, processors) and OTLP protobuf encoding in a
                ``BatchLogRecordProcessor`` (``time.process_time``);
* filtered   -- a ``debug()`` call below ``LOG_LEVEL=INFO``.

Every record is logged inside an active span with tenant baggage, as in a request.
Ratios are against ``plain`` measured in the same run.
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

from otel_distro import logs
from otel_distro.config import load_settings

TARGET_FULL = 2.5
TARGET_CALLER = 1.5


class Null(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class EncodingExporter(LogRecordExporter):
    """Encodes every batch to OTLP protobuf bytes, then drops them."""

    def __init__(self) -> None:
        self.records = 0
        self.bytes = 0

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        self.bytes += len(encode_logs(batch).SerializeToString())
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


def ours(n: int, profile: bool) -> dict[str, float]:
    exporter = EncodingExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            exporter, max_queue_size=4 * n, max_export_batch_size=512, schedule_delay_millis=50
        )
    )
    logs.configure(load_settings({"ENVIRONMENT": "production"}), provider)
    log = logs.get_logger("bench")
    span = TracerProvider().get_tracer("bench").start_span("request")
    from opentelemetry.trace import set_span_in_context

    ctx = baggage.set_baggage("tenant.id", "t-42", set_span_in_context(span))
    token = context.attach(baggage.set_baggage("user.id", "u-7", ctx))
    try:
        per_record(lambda i: call(log, i), 1000, time.perf_counter)
        provider.force_flush()
        caller = per_record(lambda i: call(log, i), n, time.thread_time)
        provider.force_flush()

        start = time.process_time()
        for i in range(n):
            call(log, i)
        provider.force_flush()
        full = (time.process_time() - start) / n * 1e6
        filtered = per_record(lambda i: log.debug("noise", i=i), n, time.process_time)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(n):
                call(log, i)
            provider.force_flush()
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime")
            stats.print_stats(18)
    finally:
        context.detach(token)
        logs.reset()
        provider.shutdown()
    return {"caller": caller, "full": full, "filtered": filtered}


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv and argv[0].isdigit() else 20000
    profile = "--profile" in argv
    stdout = sys.stdout
    sys.stdout = Null()
    try:
        base = plain(n)
        result = ours(n, profile)
    finally:
        sys.stdout = stdout
    print(f"records per measurement: {n}")
    print(f"plain structlog JSON      {base:7.1f} us/record")
    print(
        f"otel-distro caller thread {result['caller']:7.1f} us/record  "
        f"ratio {result['caller'] / base:4.2f} (target <= {TARGET_CALLER})"
    )
    print(
        f"otel-distro full path     {result['full']:7.1f} us/record  "
        f"ratio {result['full'] / base:4.2f} (target <= {TARGET_FULL})"
    )
    print(f"filtered debug() call     {result['filtered']:7.2f} us/record")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
