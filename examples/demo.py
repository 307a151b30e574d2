"""``make demo``: run the panel API under otel-distro and show where its telemetry goes.

Starts an OTLP/HTTP capture receiver on a free loopback port (unless
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: then telemetry goes there), launches
``opentelemetry-instrument uvicorn examples.panel.app:app``, sends a few
requests as two tenants (and a few an attacker would send), prints each
request's trace id, what arrived for it and the security events, and stops
everything. ``OTEL_*`` variables you set are passed to the app.

The app also writes its traces and logs as OTLP-JSON lines to ``telemetry/demo/``
(``--dir`` elsewhere), which outlive the demo: it ends by printing where they are
(and the Jaeger URL when a Jaeger answers at ``$JAEGER_API``, default
``http://127.0.0.1:16686``), the most interesting trace's id and its waterfall,
drawn by ``otel-distro traces show``.  ``--smoke`` is the non-interactive run (no
progress bar) ending in one ``trace <id> is in <dir>`` line; ``--stack`` builds (once)
and starts the local Collector and Jaeger and sends everything there too.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from examples.otlp_capture import OtlpCapture
from examples.panel.runner import (
    REPO_ROOT,
    AppProcess,
    AppStartError,
    describe_exit,
    launch_app,
)
from examples.panel.tokens import DEFAULT_SECRET, SECRET_ENV, make_token

SECRETS = (
    "hunter2-demo",
    "demo-key-123",
    "demo-billing-key-123",
)  # sent below; redaction should hide them
ABUSE_THRESHOLD = 5  # security violations from one address (the demo's) for an abuse signal
REQUESTS = 10 + ABUSE_THRESHOLD  # how many requests ``drive`` sends (for the progress bar)
DEFAULT_DIR = Path("telemetry") / "demo"
DEFAULT_JAEGER = "http://127.0.0.1:16686"


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


def progress(done: int, label: str) -> None:
    """A one-line progress bar on a terminal (nothing when stderr is not one)."""
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // REQUESTS
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done >= REQUESTS else ""
    print(f"\r  [{bar}] {done:>2}/{REQUESTS} {label[:40]:<40}", end=end, file=sys.stderr)


def drive(app: AppProcess, show_progress: bool = True) -> list[Call]:
    """The demo's requests: two tenants, an outbound call, auth failures, a cross-tenant read,
    a forbidden delete, forged tokens that raise an abuse signal, an error."""
    alice = {"Authorization": f"Bearer {make_token('alice', 'team-a')}"}
    bob = {"Authorization": f"Bearer {make_token('bob', 'team-b')}"}
    client = app.client()
    calls: list[Call] = []

    def call(label: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        calls.append(Call(label, method, path, response.status_code, trace_id_of(response)))
        if show_progress:
            progress(len(calls), label)
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
    print("\n  per request trace:   spans  logs  tenant   span names")
    for c in calls:
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


def jaeger_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/services", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def show_trace(trace_id: str, folder: Path, user_endpoint: str | None) -> None:
    """Where the telemetry is, and the trace's waterfall from the files it left."""
    from otel_distro.cli import main as cli

    print(f"\nTelemetry kept in {folder}/ (traces.jsonl, logs.jsonl: OTLP JSON lines).")
    jaeger = os.environ.get("JAEGER_API") or DEFAULT_JAEGER
    if user_endpoint and jaeger_answers(jaeger):
        print(f"In Jaeger: {jaeger}/trace/{trace_id}")
        print(f"  (the locally built Jaeger has no UI; its API: {jaeger}/api/traces/{trace_id})")
    elif user_endpoint:
        print(f"Also sent to {user_endpoint}: look the trace id up in the backend behind it.")
    print(f"\nThe most interesting trace, {trace_id}:")
    print(f"  otel-distro traces show {trace_id} --dir {folder}\n", flush=True)
    if cli(["traces", "show", trace_id, "--dir", str(folder)]) != 0:
        print("  (the trace is not in the files yet)")
    print(f"\nThe same as a page: otel-distro traces html {trace_id} --dir {folder} -o trace.html")


def start_stack() -> tuple[str, str] | None:
    """``--stack``: build (once) and start the local Collector and Jaeger; their URLs."""
    for script in ("build.sh", "stack.sh"):
        command = ["bash", str(REPO_ROOT / "collector" / "scripts" / script)]
        if script == "stack.sh":
            command.append("up")
        print(f"Running {' '.join(command[1:])} ...", flush=True)
        if subprocess.run(command, cwd=REPO_ROOT, check=False).returncode != 0:
            print("The local stack did not start: using the files only.", file=sys.stderr)
            return None
    otlp = f"http://127.0.0.1:{os.environ.get('OTELCOL_OTLP_HTTP_PORT', '4318')}"
    jaeger = f"http://127.0.0.1:{os.environ.get('JAEGER_QUERY_HTTP_PORT', '16686')}"
    return otlp, jaeger


def stop_stack() -> None:
    script = str(REPO_ROOT / "collector" / "scripts" / "stack.sh")
    subprocess.run(["bash", script, "down"], cwd=REPO_ROOT, check=False)


def prepare(folder: Path) -> Path:
    """An absolute folder for this run's files, without the files of an earlier run."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("traces*.jsonl"), *folder.glob("logs*.jsonl")]:
        old.unlink()
    return folder


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="folder for the files")
    parser.add_argument(
        "--smoke", action="store_true", help="no progress bar; end with the trace id and folder"
    )
    parser.add_argument(
        "--stack",
        action="store_true",
        help="also send everything to the local Collector and Jaeger (built once, left running)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Turn SIGTERM into an exception so the app and the receiver are still cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    user_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    user_otel = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    folder = prepare(args.dir)
    stack = start_stack() if args.stack and not user_endpoint else None
    if stack is not None:
        user_endpoint, os.environ["JAEGER_API"] = stack
    try:
        return run(args, user_endpoint, user_otel, folder, stack is not None)
    except KeyboardInterrupt:
        if stack is not None:
            stop_stack()
        raise


def run(
    args: argparse.Namespace,
    user_endpoint: str | None,
    user_otel: dict[str, str],
    folder: Path,
    stack: bool,
) -> int:
    env = {
        "OTEL_SERVICE_NAME": "panel-api",
        "ENVIRONMENT": "development",
        SECRET_ENV: DEFAULT_SECRET,
        "OTEL_DISTRO_JWT_SECRET": DEFAULT_SECRET,
        "OTEL_DISTRO_ABUSE_HOST_THRESHOLD": str(ABUSE_THRESHOLD),
        # traces and logs also as files that outlive the demo
        "OTEL_TRACES_EXPORTER": "otlp,otel_distro_file",
        "OTEL_LOGS_EXPORTER": "otlp,otel_distro_file",
        "OTEL_DISTRO_FILE_FALLBACK_DIR": str(folder),
        **user_otel,
    }
    with ExitStack() as stack:
        capture = None if user_endpoint else stack.enter_context(OtlpCapture())
        endpoint = user_endpoint or (capture.endpoint if capture else "")
        print(f"Telemetry goes to {endpoint}" + ("" if user_endpoint else " (capture receiver)"))
        print(f"and to OTLP-JSON files in {folder}/")
        try:
            app = stack.enter_context(launch_app(env=env, otlp_endpoint=endpoint))
        except AppStartError as exc:
            print(f"The app did not start:\n{exc}", file=sys.stderr)
            return 1
        print(f"panel-api is up at {app.base_url} (pid {app.pid}); sending {REQUESTS} requests")
        started = time.monotonic()
        try:
            calls = drive(app, show_progress=not args.smoke)
        except KeyboardInterrupt:
            app.stop()
            print("\nInterrupted: the app is stopped.")
            return 130
        print_calls(calls)
        if capture is not None:
            wait_for_delivery(capture, calls)
        code = app.stop()
        print(f"\nStopped the app ({describe_exit(code)}) after {time.monotonic() - started:.1f}s.")
        if capture is not None:
            print_capture(capture, calls, app.stdout_text() + app.stderr_text())
        notes = [line for line in app.stderr_text().splitlines() if "otel-distro" in line]
        if notes:
            print("\notel-distro said:")
            print("\n".join(f"  {line}" for line in notes[-10:]))
        tail = app.stdout_text().splitlines()[-8:]
        if tail:
            print("\nLast lines the app printed:")
            print("\n".join(f"  {line}" for line in tail))
        chosen = most_interesting(capture, calls)
    show_trace(chosen.trace_id, folder, user_endpoint)
    if stack:
        print("\nThe local stack keeps running: `make stack-down` stops it.")
    if args.smoke:
        print(f"\ntrace {chosen.trace_id} is in {folder}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C outside the requests: everything started is stopped
        print("\nInterrupted: everything the demo started is stopped.", file=sys.stderr)
        sys.exit(130)
