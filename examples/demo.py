"""``make demo``: run the panel API under otel-distro and show where its telemetry goes.

Starts an OTLP/HTTP capture receiver on a free loopback port (unless
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: then telemetry goes there), launches
``opentelemetry-instrument uvicorn examples.panel.app:app``, sends a few
requests as two tenants (and a few an attacker would send), prints each
request's trace id, what arrived for it and the security events, and stops
everything. ``OTEL_*`` variables you set are passed to the app.

When a RabbitMQ broker can be had (``$PANEL_AMQP_URL``, or a private node started
from the ``rabbitmq-server`` package), an SSE subscriber listens on ``/events``
while a site is created: the event is published to RabbitMQ, consumed and
forwarded to the subscriber, all on the creating request's trace, which the demo
then shows; without one it says why that step is skipped.

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
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from examples.otlp_capture import OtlpCapture
from examples.panel.rabbitmq import AMQP_ENV, rabbitmq
from examples.panel.report import (
    SECRETS,
    Call,
    link,
    most_interesting,
    print_calls,
    print_capture,
    print_sse_flow,
    trace_id_of,
    wait_for_delivery,
)
from examples.panel.runner import (
    REPO_ROOT,
    AppProcess,
    AppStartError,
    describe_exit,
    launch_app,
)
from examples.panel.subscriber import Subscriber
from examples.panel.tokens import DEFAULT_SECRET, SECRET_ENV, make_token

ABUSE_THRESHOLD = 5  # security violations from one address (the demo's) for an abuse signal
REQUESTS = 10 + ABUSE_THRESHOLD  # how many requests ``drive`` sends (for the progress bar)
SSE_STEPS = 2  # the subscriber's stream and the event it receives
SSE_WAIT_SECONDS = 15.0
SSE_LABEL = "the site event reached alice's SSE subscriber"
DEFAULT_DIR = Path("telemetry") / "demo"
DEFAULT_JAEGER = "http://127.0.0.1:16686"


def progress(done: int, label: str, total: int = REQUESTS) -> None:
    """A one-line progress bar on a terminal (nothing when stderr is not one)."""
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done >= total else ""
    print(f"\r  [{bar}] {done:>2}/{total} {label[:40]:<40}", end=end, file=sys.stderr)


def drive(app: AppProcess, show_progress: bool = True, sse: bool = False) -> list[Call]:
    """The demo's requests: two tenants, an outbound call, auth failures, a cross-tenant read,
    a forbidden delete, forged tokens that raise an abuse signal, an error; with ``sse``
    (RabbitMQ behind the app) a subscriber on ``/events`` first, which must receive the
    event of alice's new site."""
    alice = {"Authorization": f"Bearer {make_token('alice', 'team-a')}"}
    bob = {"Authorization": f"Bearer {make_token('bob', 'team-b')}"}
    client = app.client()
    calls: list[Call] = []
    total = REQUESTS + (SSE_STEPS if sse else 0)

    def done(entry: Call) -> None:
        calls.append(entry)
        if show_progress:
            progress(len(calls), entry.label, total)

    def call(label: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        done(Call(label, method, path, response.status_code, trace_id_of(response)))
        return response

    subscriber = None
    if sse:
        subscriber = Subscriber(f"{app.base_url}/events", alice)
        status = subscriber.status or 0
        done(Call("alice subscribes to site events", "GET", "/events", status, subscriber.trace_id))
    created = call(
        "alice creates a site", "POST", "/sites", headers=alice,
        json={"name": "Alice's blog", "domain": "blog.alice.example"},
    )  # fmt: skip
    site = created.json()
    if subscriber is not None:
        got = subscriber.wait_for("site", SSE_WAIT_SECONDS)
        ok = isinstance(got, dict) and got.get("site_id") == site["id"]
        label = SSE_LABEL if ok else f"no site event at the subscriber in {SSE_WAIT_SECONDS:.0f}s"
        done(Call(label, "SSE", "/events", 200 if ok else 0, trace_id_of(created)))
        subscriber.close()
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


def jaeger_ui(url: str) -> str | None:
    """``"ui"`` when a Jaeger with its UI answers at ``url``, ``"api"`` when one answers
    with the placeholder page of a build without UI assets, None when none answers."""
    try:
        if httpx.get(f"{url}/api/services", timeout=2.0).status_code != 200:
            return None
        page = httpx.get(f"{url}/", timeout=2.0).text
    except httpx.HTTPError:
        return None
    return "api" if "not the Jaeger UI" in page else "ui"


def show_trace(trace_id: str, folder: Path, user_endpoint: str | None) -> None:
    """Where the telemetry is, and the trace's waterfall from the files it left."""
    from otel_distro.cli import main as cli

    print(f"\nTelemetry kept in {folder}/ (traces.jsonl, logs.jsonl: OTLP JSON lines).")
    jaeger = os.environ.get("JAEGER_API") or DEFAULT_JAEGER
    ui = jaeger_ui(jaeger) if user_endpoint else None
    if ui == "ui":
        print(f"Open it in Jaeger: {link(trace_id)}")
    elif ui == "api":
        print(f"In Jaeger: {jaeger}/api/traces/{trace_id} (this Jaeger serves no UI: see")
        print("  `make screenshot` in the README for building one; the trace UI link would be")
        print(f"  {link(trace_id)})")
    elif user_endpoint:
        print(f"Also sent to {user_endpoint}: look the trace id up in the backend behind it")
        print(f"  (its trace UI link: {link(trace_id)}).")
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


STACK_ENV = REPO_ROOT / ".cache" / "stack" / "run" / "stack.env"


def running_stack(env_file: Path = STACK_ENV) -> tuple[str, str] | None:
    """The OTLP endpoint and Jaeger URL of the local stack ``make stack`` left running
    (from its ``stack.env``), when both answer; None otherwise."""
    try:
        lines = env_file.read_text().splitlines()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    otlp, jaeger = values.get("OTEL_EXPORTER_OTLP_ENDPOINT"), values.get("JAEGER_API")
    if not otlp or not jaeger or jaeger_ui(jaeger) is None or not accepts(otlp):
        return None
    return otlp, jaeger


def accepts(url: str) -> bool:
    """Whether something accepts TCP connections at ``url``'s host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 2.0):
            return True
    except OSError:
        return False


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
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--stack",
        action="store_true",
        help="also send everything to the local Collector and Jaeger (built once, left running)",
    )
    where.add_argument(
        "--no-stack",
        action="store_true",
        help="do not use a local stack that `make stack` left running (the default uses it)",
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
    found = None if user_endpoint or stack or args.no_stack else running_stack()
    if found is not None:
        print(f"Using the local stack `make stack` started (Jaeger at {found[1]}).")
    using = stack or found
    if using is not None:
        user_endpoint, os.environ["JAEGER_API"] = using
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
    with ExitStack() as resources:
        capture = None if user_endpoint else resources.enter_context(OtlpCapture())
        endpoint = user_endpoint or (capture.endpoint if capture else "")
        print(f"Telemetry goes to {endpoint}" + ("" if user_endpoint else " (capture receiver)"))
        print(f"and to OTLP-JSON files in {folder}/")
        broker = resources.enter_context(rabbitmq())
        if broker.url:
            env[AMQP_ENV] = broker.url
            env.setdefault("OTEL_DISTRO_SSE_KEEPALIVE_SECONDS", "1")
            print(f"RabbitMQ: {broker.description}; site events go through it to SSE")
        else:
            print(f"RabbitMQ -> SSE step skipped: {broker.description}")
        try:
            app = resources.enter_context(launch_app(env=env, otlp_endpoint=endpoint))
        except AppStartError as exc:
            print(f"The app did not start:\n{exc}", file=sys.stderr)
            return 1
        count = REQUESTS + (SSE_STEPS if broker.url else 0)
        print(f"panel-api is up at {app.base_url} (pid {app.pid}); {count} steps follow")
        started = time.monotonic()
        try:
            calls = drive(app, show_progress=not args.smoke, sse=broker.url is not None)
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
    print_sse_flow(calls, folder)
    show_trace(chosen.trace_id, folder, user_endpoint)
    if stack:
        print("\nThe local stack keeps running: `make stack-down` stops it.")
    elif not user_endpoint:
        print("\nTo see the traces in Jaeger too: `make stack` (or this demo with --stack),")
        print("then `make demo` again sends them there as well.")
    if args.smoke:
        print(f"\ntrace {chosen.trace_id} is in {folder}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C outside the requests: everything started is stopped
        print("\nInterrupted: everything the demo started is stopped.", file=sys.stderr)
        sys.exit(130)
