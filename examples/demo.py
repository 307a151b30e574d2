"""``make demo``: run the panel API under otel-distro and show where its telemetry goes.

Starts an OTLP/HTTP capture receiver on a free loopback port (unless
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: then telemetry goes there), launches
``opentelemetry-instrument uvicorn examples.panel.app:app``, sends a few
requests as two tenants (and a few an attacker would send), prints each
request's trace id, what arrived for it and the security events, and stops
everything. ``OTEL_*`` variables you set are passed to the app.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass

import httpx

from examples.otlp_capture import OtlpCapture
from examples.panel.runner import AppProcess, AppStartError, describe_exit, launch_app
from examples.panel.tokens import DEFAULT_SECRET, SECRET_ENV, make_token

SECRETS = (
    "hunter2-demo",
    "demo-key-123",
    "demo-billing-key-123",
)  # sent below; redaction should hide them
ABUSE_THRESHOLD = 5  # security violations from one address (the demo's) for an abuse signal


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


def drive(app: AppProcess) -> list[Call]:
    """The demo's requests: two tenants, an outbound call, auth failures, a cross-tenant read,
    a forbidden delete, forged tokens that raise an abuse signal, an error."""
    alice = {"Authorization": f"Bearer {make_token('alice', 'team-a')}"}
    bob = {"Authorization": f"Bearer {make_token('bob', 'team-b')}"}
    client = app.client()
    calls: list[Call] = []

    def call(label: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        calls.append(Call(label, method, path, response.status_code, trace_id_of(response)))
        return response

    site = call(
        "alice creates a site", "POST", "/sites", headers=alice,
        json={"name": "Alice's blog", "domain": "blog.alice.example"},
    ).json()  # fmt: skip
    call("alice reads it", "GET", f"/sites/{site['id']}", headers=alice)
    call("alice checks status (outbound call)", "GET", f"/sites/{site['id']}/status", headers=alice)
    call(
        "alice pays (third-party call via the factory)",
        "POST",
        f"/sites/{site['id']}/charge",
        headers=alice,
    )
    call("bob cannot see alice's site", "GET", f"/sites/{site['id']}", headers=bob)
    call(
        "bob creates a site", "POST", "/sites", headers=bob,
        json={"name": "Bob's shop", "domain": "shop.bob.example"},
    )  # fmt: skip
    call("no token", "GET", f"/sites/{site['id']}")
    call(
        "a log with a secret in it", "POST", "/echo-log", headers=bob,
        json={"user": "bob", "password": SECRETS[0]},
    )  # fmt: skip
    call("alice may not delete (403)", "DELETE", f"/sites/{site['id']}", headers=alice)
    forged = {"Authorization": f"Bearer {make_token('mallory', 'team-a', secret='f' * 32)}"}
    for n in range(ABUSE_THRESHOLD):
        call(f"forged token #{n + 1} (401)", "GET", f"/sites/{site['id']}", headers=forged)
    call("an error", "GET", f"/boom?api_key={SECRETS[1]}", headers=alice)  # last: it may close
    return calls


def print_calls(calls: list[Call]) -> None:
    print("\nRequests (trace id from the X-Request-ID / traceresponse headers):")
    for c in calls:
        print(f"  {c.status}  {c.method:<4} {c.path:<34} {c.trace_id or '-':<32}  {c.label}")


def print_capture(capture: OtlpCapture, calls: list[Call], app_output: str) -> None:
    spans, logs, metrics = capture.spans(), capture.logs(), capture.metrics()
    print(f"\nReceived by the capture receiver at {capture.endpoint}:")
    print(f"  {len(spans)} spans, {len(logs)} log records, {len(metrics)} metric points")
    print("\n  per request trace:   spans  logs   span names")
    for c in calls:
        trace_spans = [s for s in spans if s.trace_id == c.trace_id]
        trace_logs = [rec for rec in logs if rec.trace_id == c.trace_id]
        names = ", ".join(sorted({s.name for s in trace_spans}))
        print(
            f"  {c.trace_id[:16] or '-':<18} {len(trace_spans):>6} {len(trace_logs):>5}   {names}"
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


def main() -> int:
    # Turn SIGTERM into an exception so the app and the receiver are still cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    user_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    user_otel = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    env = {
        "OTEL_SERVICE_NAME": "panel-api",
        "ENVIRONMENT": "development",
        SECRET_ENV: DEFAULT_SECRET,
        "OTEL_DISTRO_JWT_SECRET": DEFAULT_SECRET,
        "OTEL_DISTRO_ABUSE_HOST_THRESHOLD": str(ABUSE_THRESHOLD),
        **user_otel,
    }
    with ExitStack() as stack:
        capture = None if user_endpoint else stack.enter_context(OtlpCapture())
        endpoint = user_endpoint or (capture.endpoint if capture else "")
        print(f"Telemetry goes to {endpoint}" + ("" if user_endpoint else " (capture receiver)"))
        try:
            app = stack.enter_context(launch_app(env=env, otlp_endpoint=endpoint))
        except AppStartError as exc:
            print(f"The app did not start:\n{exc}", file=sys.stderr)
            return 1
        print(f"panel-api is up at {app.base_url} (pid {app.pid})")
        started = time.monotonic()
        calls = drive(app)
        print_calls(calls)
        if capture is not None:
            wait_for_delivery(capture, calls)
        code = app.stop()
        print(f"\nStopped the app ({describe_exit(code)}) after {time.monotonic() - started:.1f}s.")
        if capture is not None:
            print_capture(capture, calls, app.stdout_text() + app.stderr_text())
        else:
            print(f"Look the trace ids up in the backend behind {user_endpoint}.")
        notes = [line for line in app.stderr_text().splitlines() if "otel-distro" in line]
        if notes:
            print("\notel-distro said:")
            print("\n".join(f"  {line}" for line in notes[-10:]))
        tail = app.stdout_text().splitlines()[-8:]
        if tail:
            print("\nLast lines the app printed:")
            print("\n".join(f"  {line}" for line in tail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
