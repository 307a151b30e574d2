"""The local collector + Jaeger stack for tests: built binaries on free loopback ports.

:func:`start_stack` runs ``collector/scripts/stack.sh up`` (the same script as
``make stack``) with every port chosen free on 127.0.0.1 and a private run and
output folder, and returns a :class:`Stack`; :meth:`Stack.stop` runs
``stack.sh down``. The ``otel_stack`` fixture (session scope, see conftest.py)
wraps both.

Binaries come from ``make stack-build`` (``.cache/stack/``). When they are
missing the test is skipped locally and fails under CI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from examples.screenshot import PORTS
from tests.support import require

__all__ = [
    "COLLECTOR_BIN",
    "JAEGER_BIN",
    "REPO",
    "Stack",
    "StackError",
    "otel_stack",
    "require_stack_binaries",
    "start_stack",
]

REPO = Path(__file__).resolve().parents[2]
STACK_SH = REPO / "collector" / "scripts" / "stack.sh"
COLLECTOR_BIN = Path(
    os.environ.get("OTELCOL_BIN", REPO / ".cache" / "stack" / "otelcol" / "otelcol-distro")
)
JAEGER_BIN = Path(os.environ.get("JAEGER_BIN", REPO / ".cache" / "stack" / "jaeger" / "jaeger"))
HOST = "127.0.0.1"
# Listener ports are drawn from here: under Linux's default ephemeral range (32768+).
_PORT_RANGE = (20000, 32000)
_START_ATTEMPTS = 3

# stack.sh's port variables (the screenshot's private stack uses the same); each gets its
# own free port.
_PORT_VARS = PORTS

Trace = dict[str, Any]
Record = dict[str, Any]
T = TypeVar("T")


class StackError(RuntimeError):
    """The stack did not start, stop or answer as expected; the message says why."""


def require_stack_binaries() -> None:
    """Skip (locally) or fail (under CI) unless both stack binaries are built."""
    for binary in (COLLECTOR_BIN, JAEGER_BIN):
        require(
            binary.is_file() and os.access(binary, os.X_OK),
            f"{binary} is missing: run `make stack-build`",
        )
    require(shutil.which("setsid") is not None, "setsid (util-linux) is not installed")


def _free_ports(count: int) -> list[int]:
    """Distinct ports free on 127.0.0.1 now, below the kernel's ephemeral range (so
    no outgoing connection's local port can take one before the stack binds it)."""
    chosen: list[int] = []
    rng = random.SystemRandom()
    while len(chosen) < count:
        port = rng.randrange(_PORT_RANGE[0], _PORT_RANGE[1])
        if port in chosen:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
        chosen.append(port)
    return chosen


@dataclass
class Stack:
    """A running collector + Jaeger pair and helpers to see what reached them."""

    otlp_http_endpoint: str
    """Base URL of the collector's OTLP/HTTP receiver (append /v1/traces etc.)."""
    otlp_grpc_endpoint: str
    """URL of the collector's OTLP/gRPC receiver (``http://127.0.0.1:PORT``)."""
    jaeger_api: str
    """Base URL of Jaeger's query service (``/api/traces``, ``/api/services``)."""
    output_dir: Path
    """Where the collector's file exporters write traces/logs/metrics ``.jsonl``."""
    run_dir: Path
    """stack.sh's pid files and the two processes' logs."""
    env: dict[str, str] = field(repr=False)
    """The environment stack.sh runs with (ports, folders)."""

    # --- lifecycle ---------------------------------------------------------

    def _script(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["bash", str(STACK_SH), *args],
                env=self.env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"stack.sh {' '.join(args)} did not finish in {timeout}s") from exc

    def _run(self, *args: str) -> str:
        done = self._script(*args)
        if done.returncode != 0:
            raise StackError(
                f"stack.sh {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
                f"\n--- collector log ---\n{self.log('collector')}"
                f"\n--- jaeger log ---\n{self.log('jaeger')}"
            )
        return done.stderr

    def pid(self, name: str) -> int | None:
        """The recorded pid of ``collector`` or ``jaeger``, if any."""
        path = self.run_dir / f"{name}.pid"
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def log(self, name: str, tail: int = 40) -> str:
        """The last lines of ``collector`` or ``jaeger``'s log."""
        try:
            lines = (self.run_dir / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-tail:])

    def restart_collector(self) -> None:
        """Stop the collector and start it again on the same ports and config."""
        self._run("restart", "collector")

    def stop(self) -> None:
        """Stop both processes; kill their process groups if the script could not."""
        try:
            self._script("down", timeout=60.0)
        finally:
            for name in ("collector", "jaeger"):
                pid = self.pid(name)
                if pid is None:
                    continue
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    # --- Jaeger ------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = httpx.get(f"{self.jaeger_api}{path}", params=params, timeout=10.0)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def services(self) -> list[str]:
        """Service names Jaeger knows."""
        body = self._get("/api/services")
        return list(body.get("data") or []) if body else []

    def get_trace(self, trace_id: str | int) -> Trace | None:
        """One trace by id (32 hex digits or an int), or None if Jaeger has none."""
        hex_id = trace_id if isinstance(trace_id, str) else f"{trace_id:032x}"
        body = self._get(f"/api/traces/{hex_id}")
        data = (body or {}).get("data") or []
        return data[0] if data else None

    def find_traces(
        self,
        service: str,
        tags: Mapping[str, str] | None = None,
        *,
        operation: str | None = None,
        lookback_s: float = 3600.0,
        limit: int = 100,
    ) -> list[Trace]:
        """Traces of ``service`` whose spans carry all ``tags`` (Jaeger's /api/traces)."""
        now_us = int(time.time() * 1_000_000)
        params = {
            "service": service,
            "start": str(now_us - int(lookback_s * 1_000_000)),
            "end": str(now_us + 60_000_000),
            "limit": str(limit),
        }
        if tags:
            params["tags"] = json.dumps(dict(tags))
        if operation:
            params["operation"] = operation
        body = self._get("/api/traces", params)
        return list((body or {}).get("data") or [])

    def wait_for_trace(
        self, trace_id: str | int, *, min_spans: int = 1, timeout: float = 30.0
    ) -> Trace:
        """Poll Jaeger until the trace has at least ``min_spans`` spans; return it."""

        def found() -> Trace | None:
            trace = self.get_trace(trace_id)
            return trace if trace and len(trace.get("spans", [])) >= min_spans else None

        return self._poll(found, timeout, f"trace {trace_id} with >= {min_spans} span(s)")

    def wait_for_traces(
        self,
        service: str,
        tags: Mapping[str, str] | None = None,
        *,
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[Trace]:
        """Poll :meth:`find_traces` until it returns at least ``count`` traces."""

        def found() -> list[Trace] | None:
            traces = self.find_traces(service, tags)
            return traces if len(traces) >= count else None

        return self._poll(found, timeout, f"{count} trace(s) of {service!r} with tags {tags}")

    # --- file output -------------------------------------------------------

    def read_output(self, signal_name: str) -> list[Record]:
        """Every OTLP-JSON object the collector wrote for ``traces``, ``logs`` or
        ``metrics`` (rotated backups included), one per line."""
        records: list[Record] = []
        for path in sorted(self.output_dir.glob(f"{signal_name}*.jsonl")):
            for line in path.read_text(errors="replace").splitlines():
                if line.strip():
                    records.append(json.loads(line))
        return records

    def wait_for_output(
        self,
        signal_name: str,
        predicate: Callable[[Record], bool],
        *,
        timeout: float = 30.0,
    ) -> list[Record]:
        """Poll the file output until some line satisfies ``predicate``; return those."""

        def found() -> list[Record] | None:
            matching = [r for r in self.read_output(signal_name) if predicate(r)]
            return matching or None

        return self._poll(found, timeout, f"a matching line in {signal_name}*.jsonl")

    # --- helpers -----------------------------------------------------------

    def _poll(self, probe: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            result: T | None
            try:
                result = probe()
            except (httpx.HTTPError, OSError, ValueError) as exc:
                result, last_error = None, exc
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                detail = f" (last error: {last_error!r})" if last_error else ""
                raise StackError(
                    f"timed out after {timeout}s waiting for {what}{detail}"
                    f"\n--- collector log ---\n{self.log('collector')}"
                )
            time.sleep(0.2)


def start_stack(base_dir: Path) -> Stack:
    """Start collector + Jaeger on free loopback ports; output and run files under
    ``base_dir``. The caller must call :meth:`Stack.stop` (the fixture does).

    If a start fails (another process took a chosen port before the stack bound it,
    or a slow start on a busy machine), the stack is started again on other ports, a
    few times at most; the last failure is raised with both processes' logs."""
    require_stack_binaries()
    for attempt in range(1, _START_ATTEMPTS + 1):
        stack = _configure(base_dir / f"attempt-{attempt}")
        try:
            stack._run("up")
        except StackError:
            stack.stop()
            if attempt < _START_ATTEMPTS:
                continue
            raise
        except BaseException:
            stack.stop()
            raise
        return stack
    raise AssertionError("unreachable")


def _configure(base_dir: Path) -> Stack:
    ports = dict(zip(_PORT_VARS, _free_ports(len(_PORT_VARS)), strict=True))
    output_dir = base_dir / "output"
    run_dir = base_dir / "run"
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTELCOL_")}
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        {
            "STACK_HOST": HOST,
            "STACK_OUTPUT_DIR": str(output_dir),
            "STACK_RUN_DIR": str(run_dir),
            "OTELCOL_BIN": str(COLLECTOR_BIN),
            "JAEGER_BIN": str(JAEGER_BIN),
            # Files flushed promptly so tests see them without long waits.
            "OTELCOL_FILE_FLUSH_INTERVAL": "200ms",
            "OTELCOL_BATCH_TIMEOUT": "200ms",
        }
    )
    return Stack(
        otlp_http_endpoint=f"http://{HOST}:{ports['OTELCOL_OTLP_HTTP_PORT']}",
        otlp_grpc_endpoint=f"http://{HOST}:{ports['OTELCOL_OTLP_GRPC_PORT']}",
        jaeger_api=f"http://{HOST}:{ports['JAEGER_QUERY_HTTP_PORT']}",
        output_dir=output_dir,
        run_dir=run_dir,
        env=env,
    )


@pytest.fixture(scope="session")
def otel_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A collector + Jaeger stack shared by the test session, stopped at the end."""
    stack = start_stack(tmp_path_factory.mktemp("otel-stack"))
    try:
        yield stack
    finally:
        stack.stop()
