"""``make screenshot``: the demo's trace in the real Jaeger UI, as ``docs/jaeger-trace.png``.

No Docker: the local stack's own binaries (``collector/scripts/build.sh``, built once)
run as a private stack (every port a free one, its own run and output folders, so
a ``make stack`` already running is left alone), with Jaeger serving its web UI
from built assets: ``$JAEGER_UI_ASSETS``, or ``.cache/stack/jaeger-ui/``, which
``JAEGER_UI_SRC=<jaeger-ui checkout> bash collector/scripts/build.sh jaeger-ui``
builds (the Go-built Jaeger alone has only a placeholder page).  ``make demo`` runs
against that stack; once Jaeger's API holds every span of the chosen trace (the
RabbitMQ -> SSE one when the demo had RabbitMQ, else its most interesting one),
headless Chromium (Debian's ``chromium``, driven over the DevTools protocol) opens
the trace page, checks that it shows every span name of the trace (else nothing is
written), opens the span with the most log lines (logs as span events: Jaeger lists
them under the span) and takes the picture.  Everything started is
stopped at the end, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from examples.browser import BrowserError, Page, chromium
from examples.panel.runner import REPO_ROOT, free_port
from otel_distro.cli._model import TraceView
from otel_distro.cli._sources import FileSource, JaegerSource, SourceError

DEFAULT_OUTPUT = REPO_ROOT / "docs" / "jaeger-trace.png"
UI_CACHE = REPO_ROOT / ".cache" / "stack" / "jaeger-ui"
SCRIPTS = REPO_ROOT / "collector" / "scripts"
PORTS = (
    "OTELCOL_OTLP_GRPC_PORT",
    "OTELCOL_OTLP_HTTP_PORT",
    "OTELCOL_HEALTH_PORT",
    "OTELCOL_METRICS_PORT",
    "JAEGER_OTLP_GRPC_PORT",
    "JAEGER_QUERY_HTTP_PORT",
    "JAEGER_QUERY_GRPC_PORT",
    "JAEGER_HEALTH_PORT",
)
DELIVERY_TIMEOUT = 60.0  # how long Jaeger may take to hold every span of the trace


class ScreenshotError(RuntimeError):
    """A step failed; the message says which and what to do."""


def ui_assets() -> Path:
    """The Jaeger UI assets folder, built from ``$JAEGER_UI_SRC`` when only that is given."""
    given = os.environ.get("JAEGER_UI_ASSETS")
    folder = Path(given) if given else UI_CACHE
    if (folder / "index.html").is_file():
        return folder
    if given:
        raise ScreenshotError(f"JAEGER_UI_ASSETS={given} holds no index.html")
    if os.environ.get("JAEGER_UI_SRC"):
        _run(["bash", str(SCRIPTS / "build.sh"), "jaeger-ui"], "building the Jaeger UI")
        return folder
    raise ScreenshotError(
        "no Jaeger UI assets: set JAEGER_UI_SRC to a jaeger-ui checkout (tag v1.76.0) to build "
        f"them into {UI_CACHE.relative_to(REPO_ROOT)}/, or JAEGER_UI_ASSETS to a built folder"
    )


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    print(f"{what}: {' '.join(command[1:])}", flush=True)
    if subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode != 0:
        raise ScreenshotError(f"{what} failed")


@contextmanager
def private_stack(assets: Path, folder: Path) -> Iterator[dict[str, str]]:
    """A Collector and a Jaeger (with its UI) on free ports; yields their variables."""
    env = {
        **os.environ,
        **{name: str(free_port()) for name in PORTS},
        "STACK_TOPOLOGY": "single",
        "STACK_RUN_DIR": str(folder / "run"),
        "STACK_OUTPUT_DIR": str(folder / "collector"),
        "JAEGER_UI_ASSETS": str(assets),
    }
    _run(["bash", str(SCRIPTS / "build.sh")], "building the stack (once)", env)
    stack = ["bash", str(SCRIPTS / "stack.sh")]
    try:
        _run([*stack, "up"], "starting a private stack", env)
        yield env
    finally:
        subprocess.run([*stack, "down"], cwd=REPO_ROOT, env=env, check=False)


def run_demo(stack: dict[str, str], folder: Path) -> tuple[str, str | None, str]:
    """``make demo --smoke`` against the stack: (chosen trace, SSE trace or None, output)."""
    jaeger = f"http://127.0.0.1:{stack['JAEGER_QUERY_HTTP_PORT']}"
    env = {
        **stack,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{stack['OTELCOL_OTLP_HTTP_PORT']}",
        "JAEGER_API": jaeger,
        "OTEL_DISTRO_TRACE_URL_TEMPLATE": jaeger + "/trace/{trace_id}",
    }
    print("running the demo against it", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--smoke", "--dir", str(folder)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    chosen = re.search(r"^trace ([0-9a-f]{32}) is in ", done.stdout, re.M)
    if done.returncode != 0 or chosen is None:
        raise ScreenshotError(f"the demo failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    sse = re.search(r"^RabbitMQ -> SSE on one trace, ([0-9a-f]{32})", done.stdout, re.M)
    return chosen.group(1), sse.group(1) if sse else None, done.stdout


def wait_in_jaeger(jaeger: JaegerSource, expected: TraceView) -> TraceView:
    """The trace from Jaeger's API once it holds every span the demo's files hold."""
    wanted = {span.span_id for span in expected.spans}
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    seen: set[str] = set()
    while time.monotonic() < deadline:
        try:
            trace = jaeger.trace(expected.trace_id)
        except SourceError:
            trace = None
        seen = {span.span_id for span in trace.spans} if trace else set()
        if trace is not None and wanted <= seen:
            return trace
        time.sleep(0.5)
    raise ScreenshotError(
        f"Jaeger held {len(seen & wanted)} of the {len(wanted)} spans of trace "
        f"{expected.trace_id} after {DELIVERY_TIMEOUT:.0f}s"
    )


# JavaScript run in the Jaeger UI page (the names are JSON-quoted by the caller).
_SPAN_ROWS = "document.querySelectorAll('.span-row').length"
_EXPAND = """(() => {
  const want = %s;
  const row = [...document.querySelectorAll('.span-name')].find(
    (a) => (a.querySelector('.endpoint-name') || {}).innerText === want);
  if (!row) return false;
  row.click();
  return true;
})()"""
_DETAIL_BOTTOM = """(() => {
  if (!document.querySelector('.detail-row')) return 0;
  const rows = [...document.querySelectorAll('.span-row, .detail-row')];
  return Math.ceil(Math.max(...rows.map((row) => row.getBoundingClientRect().bottom)));
})()"""


def _expanded_span(trace: TraceView) -> str:
    """The span to open in the picture: the one with the most log lines and events."""
    return max(trace.spans, key=lambda span: (len(span.logs), -span.depth)).name


async def _shoot(url: str, trace: TraceView, output: Path, width: int, height: int) -> None:
    names = sorted({span.name for span in trace.spans})
    async with Page(width, height) as page:
        await page.open(url)
        await page.wait_for(f"{_SPAN_ROWS} >= {len(trace.spans)}", "every span of the trace")
        text = str(await page.evaluate("document.body.innerText"))
        missing = [name for name in names if name not in text]
        if missing:
            raise ScreenshotError(f"the Jaeger UI page {url} does not show {missing}")
        opened = _expanded_span(trace)
        if not await page.evaluate(_EXPAND % json.dumps(opened)):
            raise ScreenshotError(f"no span row named {opened!r} to open")
        bottom = int(await page.wait_for(_DETAIL_BOTTOM, f"the details of {opened!r}"))
        # the rows' bottom: the picture ends below the last span
        await asyncio.sleep(0.5)  # the row's expand animation and the log list's layout
        bottom = int(await page.evaluate(_DETAIL_BOTTOM)) or bottom
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=max(400, min(height, bottom + 16)),
            deviceScaleFactor=1,
            mobile=False,
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(output)


def shoot(url: str, trace: TraceView, output: Path, size: str) -> None:
    """Open ``url`` in headless Chromium, check that it shows every span name of ``trace``,
    open the span with the most log lines, and write the picture to ``output``."""
    width, height = (int(n) for n in size.split("x"))
    try:
        asyncio.run(_shoot(url, trace, output, width, height))
    except BrowserError as exc:
        raise ScreenshotError(str(exc)) from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.screenshot", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--trace",
        choices=("auto", "sse", "interesting"),
        default="auto",
        help="which demo trace (auto: the RabbitMQ -> SSE one when the demo had RabbitMQ)",
    )
    parser.add_argument("--size", default="1400x860", help="the window, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{3,4}x\d{3,4}", args.size):
        parser.error("--size is WIDTHxHEIGHT, e.g. 1400x860")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        assets = ui_assets()
        chromium()  # before anything starts: the one thing with no fallback
        with (
            tempfile.TemporaryDirectory(prefix="screenshot-stack-") as tmp,
            private_stack(assets, Path(tmp)) as stack,
        ):
            files = Path(tmp) / "demo"
            chosen, sse, _ = run_demo(stack, files)
            if args.trace == "sse" and sse is None:
                raise ScreenshotError("the demo had no RabbitMQ, so no RabbitMQ -> SSE trace")
            trace_id = sse if sse and args.trace != "interesting" else chosen
            expected = FileSource([files]).trace(trace_id)
            if expected is None:
                raise ScreenshotError(f"trace {trace_id} is not in the demo's files")
            jaeger_url = f"http://127.0.0.1:{stack['JAEGER_QUERY_HTTP_PORT']}"
            wait_in_jaeger(JaegerSource(jaeger_url), expected)
            names = sorted({span.name for span in expected.spans})
            shoot(f"{jaeger_url}/trace/{trace_id}", expected, args.output, args.size)
    except (ScreenshotError, BrowserError) as exc:
        print(f"screenshot: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"screenshot: Jaeger did not answer ({type(exc).__name__})", file=sys.stderr)
        return 1
    shown = ", ".join(names)
    print(f"wrote {args.output}: trace {trace_id} ({len(expected.spans)} spans: {shown})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted: the private stack is stopped.", file=sys.stderr)
        sys.exit(130)
