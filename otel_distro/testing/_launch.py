"""A real ``opentelemetry-instrument uvicorn`` process exporting into a capture.

:func:`launch` starts the app on a free 127.0.0.1 port with the capture's OTLP
receiver as its only endpoint and short export intervals, waits until it accepts
connections, and stops it (SIGTERM to its process group, so the distro's final
flush runs; SIGKILL after a bound) when the ``with`` block ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["Launched", "launch"]

_FAST_EXPORT = {
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "OTEL_BLRP_SCHEDULE_DELAY": "200",
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",
}
_SIGNALS = ("TRACES", "METRICS", "LOGS")


@dataclass
class Launched:
    """A running app: ``url`` (``http://127.0.0.1:PORT``) and what it printed so far."""

    url: str
    process: subprocess.Popen[bytes]
    _output: IO[bytes]

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        self._output.flush()
        self._output.seek(0)
        return self._output.read().decode("utf-8", "replace")


def _executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"otel_capture.launch: {name} is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(endpoint: str, env: Mapping[str, str] | None) -> dict[str, str]:
    environ = dict(os.environ)
    for signal_name in _SIGNALS:  # a per-signal endpoint would send past the capture
        environ.pop(f"OTEL_EXPORTER_OTLP_{signal_name}_ENDPOINT", None)
        environ[f"OTEL_{signal_name}_EXPORTER"] = "otlp"
    environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    for name, value in _FAST_EXPORT.items():
        environ.setdefault(name, value)
    environ.update(env or {})
    return environ


def _wait_until_serving(launched: Launched, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if launched.process.poll() is not None:
            raise RuntimeError(
                f"the app exited during start-up ({launched.process.returncode}):\n"
                + launched.output()[-4000:]
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the app did not accept connections within {timeout} s:\n"
                + launched.output()[-4000:]
            )
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        process.wait(timeout=timeout)


@contextmanager
def launch(
    endpoint: str,
    app: str,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    cwd: str | Path | None = None,
    startup_timeout: float = 30.0,
    stop_timeout: float = 15.0,
) -> Iterator[Launched]:
    """Run ``opentelemetry-instrument uvicorn APP`` exporting to ``endpoint`` (see the
    module docstring); ``env`` is applied last, ``args`` go to uvicorn."""
    port = _free_port()
    command = [
        _executable("opentelemetry-instrument"),
        _executable("uvicorn"),
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command,
            env=_environment(endpoint, env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        launched = Launched(f"http://127.0.0.1:{port}", process, output)
        try:
            _wait_until_serving(launched, port, startup_timeout)
            yield launched
        finally:
            _stop(process, stop_timeout)
