"""What ``make demo`` prints about its requests: the table, the capture, the SSE flow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from examples.otlp_capture import OtlpCapture
from otel_distro.cli._sources import FileSource
from otel_distro.config import load_settings
from otel_distro.errors import trace_link

__all__ = [
    "SECRETS",
    "Call",
    "link",
    "most_interesting",
    "print_calls",
    "print_capture",
    "print_sse_flow",
    "trace_id_of",
    "wait_for_delivery",
]

SECRETS = (
    "hunter2-demo",
    "demo-key-123",
    "demo-billing-key-123",
)  # sent by the demo; redaction should hide them


@dataclass
class Call:
    label: str
    method: str
    path: str
    status: int
    trace_id: str


def trace_id_of(response: httpx.Response) -> str:
    """The trace id the app reported, from ``X-Request-ID`` or ``traceresponse``."""
    parts = str(response.headers.get("traceresponse", "")).split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return str(response.headers.get("x-request-id", ""))


def print_calls(calls: list[Call]) -> None:
    print("\nRequests (trace id from the X-Request-ID / traceresponse headers):")
    for c in calls:
        status = str(c.status or "-")
        print(f"  {status:<3}  {c.method:<6} {c.path:<32} {c.trace_id or '-':<32}  {c.label}")
        if c.status >= 500 and c.trace_id:
            print(f"       the error's trace: {link(c.trace_id)}")


def link(trace_id: str) -> str:
    """The trace's address in the trace UI (``OTEL_DISTRO_TRACE_URL_TEMPLATE``), as the
    CLI and Sentry events give it."""
    return trace_link(trace_id, load_settings())


def print_sse_flow(calls: list[Call], folder: Path) -> None:
    """The request -> publish -> consume -> SSE forward spans of the site event's trace."""
    step = next((c for c in calls if c.method == "SSE"), None)
    if step is None:
        return
    if not step.status:
        print(f"\nRabbitMQ -> SSE: {step.label}.")
        return
    trace = FileSource([folder]).trace(step.trace_id) if step.trace_id else None
    if trace is None:
        print(f"\nRabbitMQ -> SSE: trace {step.trace_id} is not in {folder} yet.")
        return
    print(f"\nRabbitMQ -> SSE on one trace, {trace.trace_id} ({link(trace.trace_id)}):")
    for span in trace.spans:
        indent = "  " * min(span.depth, 6)
        print(f"  {indent}{span.kind or '-':<9} {span.name}")


def print_capture(capture: OtlpCapture, calls: list[Call], app_output: str) -> None:
    spans, logs, metrics = capture.spans(), capture.logs(), capture.metrics()
    print(f"\nReceived by the capture receiver at {capture.endpoint}:")
    print(f"  {len(spans)} spans, {len(logs)} log records, {len(metrics)} metric points")
    print("\n  per request trace:   spans  logs  tenant   span names")
    shown: set[str] = set()
    for c in calls:
        if c.trace_id in shown:  # the SSE step is on the creating request's trace
            continue
        shown.add(c.trace_id)
        trace_spans = [s for s in spans if s.trace_id == c.trace_id]
        trace_logs = [rec for rec in logs if rec.trace_id == c.trace_id]
        names = ", ".join(sorted({s.name for s in trace_spans}))
        tenants = {
            str(s.attributes["tenant.id"]) for s in trace_spans if "tenant.id" in s.attributes
        }
        tenant = ",".join(sorted(tenants)) or "-"
        print(
            f"  {c.trace_id[:16] or '-':<18} {len(trace_spans):>6} {len(trace_logs):>5}  "
            f"{tenant:<8} {names}"
        )
    external = [s for s in spans if s.kind == "CLIENT" and "peer.service" in s.attributes]
    for span in external:
        print(
            f"\n  external call: {span.name} {span.attributes.get('url.full')} "
            f"peer.service={span.attributes['peer.service']} "
            f"status={span.attributes.get('http.response.status_code')} "
            f"attempts={span.attributes.get('otel_distro.http.attempts')}"
        )
    print_security(capture)
    untraced = [rec for rec in logs if not rec.trace_id]
    print(f"\n  log records outside any trace: {len(untraced)}")
    print("  metrics: " + (", ".join(sorted({p.name for p in metrics})) or "none yet"))
    raw = capture.raw_bytes()
    for secret in SECRETS:
        exported = "FOUND in" if secret.encode() in raw else "absent from"
        printed = "FOUND in" if secret in app_output else "absent from"
        print(f"  secret {secret!r}: {exported} the telemetry, {printed} the app's output")


def print_security(capture: OtlpCapture) -> None:
    """The security events: one record per violation, and the abuse signal."""
    names = ("auth_violation", "tenant_violation", "token_anomaly", "abuse_signal_detected")
    events = [rec for rec in capture.logs() if rec.body in names]
    print("\n  security events (log records; each also a span event and a counter):")
    for rec in events:
        a = rec.attributes
        what = a.get("otel_distro.security.violation", "")
        where = f"{a.get('http.request.method', '')} {a.get('http.route', '')}".strip()
        print(f"    {rec.body:<22} {what:<28} {where:<26} {rec.trace_id[:16]}")
    counts: dict[str, int] = {}
    for point in capture.metrics(name="otel_distro.security.violations"):
        counts[str(point.attributes.get("otel_distro.security.violation"))] = int(point.value or 0)
    if counts:
        print("    counter otel_distro.security.violations: " + ", ".join(
            f"{name}={value}" for name, value in sorted(counts.items())
        ))  # fmt: skip


def wait_for_delivery(capture: OtlpCapture, calls: list[Call]) -> None:
    """Give the exporters a moment to deliver every request's server span and some metrics."""
    wanted = {c.trace_id for c in calls if c.trace_id}
    try:
        capture.wait_for(
            lambda: wanted <= {s.trace_id for s in capture.spans(kind="SERVER")}, timeout=10
        )
        capture.wait_for(capture.metrics, timeout=5)
    except AssertionError:
        print("\n(not everything arrived in time; showing what did)")


def most_interesting(capture: OtlpCapture | None, calls: list[Call]) -> Call:
    """The request whose trace has the most spans and log records (an outbound call wins)."""
    if capture is None:
        return next((c for c in calls if "third-party" in c.label), calls[0])
    spans, logs = capture.spans(), capture.logs()

    def score(c: Call) -> tuple[bool, int]:
        own = [s for s in spans if s.trace_id == c.trace_id]
        external = any(s.kind == "CLIENT" and "peer.service" in s.attributes for s in own)
        return external, len(own) + sum(1 for rec in logs if rec.trace_id == c.trace_id)

    return max((c for c in calls if c.trace_id), key=score)
