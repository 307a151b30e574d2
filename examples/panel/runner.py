"""Run an ASGI app under ``opentelemetry-instrument uvicorn`` as a child process.

Shared by ``python -m examples.demo`` and the integration tests. The child gets:

* its own process group, so stopping it (SIGTERM, then SIGKILL after a bound)
  also stops uvicorn's worker processes and leaves nothing behind;
* a clean environment: the parent's, minus every ``OTEL_*`` variable and every
  variable otel-distro reads, plus what the caller passes;
* a fresh working directory (log files and the file fallback land there);
* stdout/stderr in files, shown in the error when it does not become healthy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = [
    "REPO_ROOT",
    "AppProcess",
    "AppStartError",
    "clean_environ",
    "describe_exit",
    "free_port",
    "group_alive",
    "launch_app",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
STOCK_SDK = "stock_sdk"

# Short export intervals so telemetry arrives within a test's patience.
FAST_EXPORT = {
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "OTEL_BLRP_SCHEDULE_DELAY": "200",
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",
}

# Entry points that select the SDK's own configurator with no distro defaults, for
# comparing against (or testing the harness without) otel-distro.
_STOCK_ENTRY_POINTS = f"""\
[opentelemetry_distro]
{STOCK_SDK} = opentelemetry.instrumentation.distro:DefaultDistro

[opentelemetry_configurator]
{STOCK_SDK} = opentelemetry.sdk._configuration:_OTelSDKConfigurator
"""
STOCK_SDK_ENV = {
    "OTEL_PYTHON_DISTRO": STOCK_SDK,
    "OTEL_PYTHON_CONFIGURATOR": STOCK_SDK,
    "OTEL_TRACES_EXPORTER": "otlp_proto_http",
    "OTEL_METRICS_EXPORTER": "otlp_proto_http",
    "OTEL_LOGS_EXPORTER": "otlp_proto_http",
}


class AppStartError(RuntimeError):
    """The app exited or did not answer its health check in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _distro_variable_names() -> set[str]:
    try:
        from otel_distro.config import VARIABLES
    except ImportError:  # pragma: no cover - the package is always installed here
        return set()
    return {variable.name for variable in VARIABLES}


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without OTEL_*, otel-distro and PANEL_* variables, plus ``extra``."""
    dropped = _distro_variable_names()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "PANEL_"))
        and key not in dropped
        and key not in {"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME"}
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _stock_sdk_path(workdir: Path) -> Path:
    """A folder whose dist-info registers the stock distro/configurator as ``stock_sdk``."""
    folder = workdir / "stock-sdk-entry-points"
    info = folder / "otel_stock_sdk-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: otel-stock-sdk\nVersion: 0\n")
    (info / "entry_points.txt").write_text(_STOCK_ENTRY_POINTS)
    return folder


@dataclass
class AppProcess:
    """A running app: where it listens, what it printed, and how to talk to it."""

    port: int
    workdir: Path
    env: dict[str, str]
    command: list[str]
    popen: subprocess.Popen[bytes] | None = None
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def stdout_text(self) -> str:
        return (self.workdir / "stdout.log").read_text(errors="replace")

    def stderr_text(self) -> str:
        return (self.workdir / "stderr.log").read_text(errors="replace")

    def output(self, tail: int = 60) -> str:
        """The last ``tail`` lines of stdout and stderr, labelled."""
        out = self.stdout_text().splitlines()[-tail:]
        err = self.stderr_text().splitlines()[-tail:]
        return "--- stdout ---\n" + "\n".join(out) + "\n--- stderr ---\n" + "\n".join(err)

    def client(self, **kwargs: object) -> httpx.Client:
        """An ``httpx.Client`` for ``base_url`` (closed when the app stops)."""
        kwargs.setdefault("timeout", 10.0)
        client = httpx.Client(base_url=self.base_url, **kwargs)  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    # lifecycle ------------------------------------------------------------------

    def start(self, startup_timeout: float = 30.0, health_path: str = "/health") -> None:
        with (
            (self.workdir / "stdout.log").open("wb") as out,
            (self.workdir / "stderr.log").open("wb") as err,
        ):
            self.popen = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            self._wait_healthy(startup_timeout, health_path)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float, path: str) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        with httpx.Client(base_url=self.base_url, timeout=2.0) as probe:
            while time.monotonic() < deadline:
                if self.returncode is not None:
                    msg = (
                        f"app exited with code {self.returncode} before answering {path}\n"
                        f"command: {' '.join(self.command)}\n{self.output()}"
                    )
                    raise AppStartError(msg)
                try:
                    if probe.get(path).status_code == 200:
                        return
                    last_error = "non-200 answer"
                except httpx.TransportError as exc:
                    last_error = repr(exc)
                time.sleep(0.1)
        msg = (
            f"app did not answer {path} within {timeout}s ({last_error})\n"
            f"command: {' '.join(self.command)}\n{self.output()}"
        )
        raise AppStartError(msg)

    def stop(self, timeout: float = 15.0, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Send ``sig`` to the whole process group, SIGKILL after ``timeout``; the exit code.

        uvicorn re-raises SIGTERM after its graceful shutdown, so the process ends by the
        signal (``-15``, see :func:`describe_exit`: a normal stop); otel-distro's SIGTERM
        handler runs the bounded final export first.  SIGINT ends in a normal exit.
        """
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        # Workers may outlive the parent for a moment; make sure none stay.
        _signal_group(self.popen.pid, signal.SIGKILL)
        _wait_group_gone(self.popen.pid, timeout=5.0)
        return self.popen.returncode


def describe_exit(code: int | None, sent: signal.Signals = signal.SIGTERM) -> str:
    """How a stopped app ended, in words: a stop by the signal it was sent is not a crash.

    ``subprocess`` reports death by signal N as ``-N``; shells print ``128 + N``
    (143 for SIGTERM).  uvicorn ends by re-raising the SIGTERM it was sent, with or
    without otel-distro, so ``-15``/``143`` after ``stop()`` is the normal outcome.
    """
    if code is None:
        return "still running"
    number = -code if code < 0 else code - 128 if 128 < code < 160 else None
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        normal = number == sent or number in (signal.SIGTERM, signal.SIGINT)
        return f"ended by {name}, " + ("a normal stop" if normal else "killed")
    return "exited normally" if code == 0 else f"exited with status {code}"


def group_alive(pgid: int) -> bool:
    """Whether any process (zombies included) is still in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_group_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


@contextmanager
def launch_app(
    app: str = "examples.panel.app:app",
    env: Mapping[str, str] | None = None,
    *,
    workers: int = 1,
    instrument: bool = True,
    stock_sdk: bool = False,
    otlp_endpoint: str | None = None,
    extra_args: Sequence[str] = (),
    port: int | None = None,
    startup_timeout: float = 30.0,
    workdir: Path | None = None,
) -> Iterator[AppProcess]:
    """Start ``[opentelemetry-instrument] uvicorn <app>`` and stop it (and its group) on exit.

    ``otlp_endpoint`` becomes ``OTEL_EXPORTER_OTLP_ENDPOINT``; ``env`` wins over the
    harness defaults. ``stock_sdk=True`` runs the SDK's own configurator instead of
    otel-distro (exporting all three signals over OTLP/HTTP).
    """
    with tempfile.TemporaryDirectory(prefix="panel-app-") as tmp:
        folder = workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        child_env = clean_environ(
            {"OTEL_SERVICE_NAME": "panel-api", "ENVIRONMENT": "test", **FAST_EXPORT}
        )
        if otlp_endpoint:
            child_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
        child_env.update(env or {})
        paths = [child_env.get("PYTHONPATH", "")]
        if stock_sdk:
            child_env.update({k: v for k, v in STOCK_SDK_ENV.items() if k not in (env or {})})
            paths.append(str(_stock_sdk_path(Path(tmp))))
        paths.append(str(REPO_ROOT))  # the app's package; after anything the caller put first
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        launcher = [str(BIN_DIR / "opentelemetry-instrument")] if instrument else []
        for attempt in range(3):
            chosen = port or free_port()
            command = [
                *launcher,
                str(BIN_DIR / "uvicorn"),
                app,
                "--host", "127.0.0.1",
                "--port", str(chosen),
                "--workers", str(workers),
                *extra_args,
            ]  # fmt: skip
            process = AppProcess(port=chosen, workdir=folder, env=child_env, command=command)
            try:
                process.start(startup_timeout=startup_timeout)
                break
            except AppStartError as exc:
                # Another process took the free port between our probe and uvicorn's bind.
                if port or attempt == 2 or "address already in use" not in str(exc).lower():
                    raise
        try:
            yield process
        finally:
            process.stop()
