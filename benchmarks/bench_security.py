"""Cost of one security event, against one ordinary WARNING log record, in one process.

Run: ``python -m benchmarks.bench_security [events] [rounds]`` (defaults 5000, 3).

* warning    -- ``logger.warning("login_failed", ...)`` through the distro's pipeline
                with the same number of fields: the baseline;
* violation  -- ``log_auth_violation(request=scope, ...)`` inside a recording server
                span: request fields, client address, redaction, the span event and the
                server-span attribute, the WARNING record, the counter and both abuse
                windows (each event from a new address and user, the worst case for the
                abuse tables);
* abuse only -- one ``WindowCounter.record`` of a new key with the table full.

Times are process CPU time (``time.process_time``) per event including the log
worker's share (the queue is flushed inside the measurement); each measurement is
repeated in interleaved rounds and the best is kept.  Printed as microseconds and as a
ratio to ``warning`` measured in the same run; no thresholds.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import set_span_in_context

from otel_distro import logging as logs
from otel_distro.config import load_settings
from otel_distro.context import begin_request
from otel_distro.security import WindowCounter, log_auth_violation, reset_security


class Null(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class Drop(LogRecordExporter):
    def export(self, batch: Any) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True




def scope(n: int) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/sites",
        "client": (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 40000),
        "headers": [(b"user-agent", b"bench/1.0"), (b"authorization", b"Bearer x.y.z")],
    }


def per_event(fn: Callable[[int], None], n: int, provider: LoggerProvider) -> float:
    start = time.process_time()
    for i in range(n):
        fn(i)
    logs.flush()
    provider.force_flush()
    return (time.process_time() - start) / n * 1e6


def run(n: int, rounds: int) -> dict[str, float]:
    settings = load_settings({"ENVIRONMENT": "production"})
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(Drop(), max_queue_size=4 * n, schedule_delay_millis=50)
    )
    sys.stdout = Null()
    try:
        logs.configure(settings, provider)
        reset_security(settings, MeterProvider(metric_readers=[InMemoryMetricReader()]))
        log = logs.get_logger("bench")
        tracer = TracerProvider().get_tracer("bench")
        server = tracer.start_span("POST /sites")
        from opentelemetry import context

        token = context.attach(set_span_in_context(server))
        begin_request(server)

        def warning(i: int) -> None:
            log.warning(
                "login_failed",
                route="/sites",
                path="/sites",
                status=403,
                client="10.0.0.1",
                reason="missing_permission",
                detail="User lacks 'sites:create' permission",
                required="sites:create",
            )

        def violation(i: int) -> None:
            log_auth_violation(
                request=scope(i),
                violation="missing_permission",
                http_status=403,
                detail="User lacks 'sites:create' permission",
                required="sites:create",
                user_id=f"user-{i}",
            )

        counter = WindowCounter(20, 60.0, 10000)
        for i in range(10000):
            counter.record(f"warm-{i}")

        def abuse(i: int) -> None:
            counter.record(f"key-{i}")

        best: dict[str, float] = {}
        for _ in range(rounds):
            for name, fn in (("warning", warning), ("violation", violation), ("abuse", abuse)):
                value = per_event(fn, n, provider)
                best[name] = min(best.get(name, value), value)
        context.detach(token)
        server.end()
    finally:
        sys.stdout = sys.__stdout__
        logs.reset()
        reset_security()
        provider.shutdown()
    return best


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    best = run(n, rounds)
    base = best["warning"]
    print(f"security events: {n} per measurement, best of {rounds} rounds (process CPU time)")
    print(f"  warning record      {base:8.1f} us/event   1.00x")
    print(
        f"  security violation  {best['violation']:8.1f} us/event   {best['violation'] / base:.2f}x"
    )
    print(f"  abuse window only   {best['abuse']:8.2f} us/event   {best['abuse'] / base:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
