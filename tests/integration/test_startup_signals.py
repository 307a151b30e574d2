"""A signal during start-up ends the process as it would without the distro.

The distro used to turn SIGTERM into ``SystemExit`` from the moment it was
configured, inside interpreter start-up: a SIGTERM then killed the interpreter with
``Fatal Python error: init_import_site``.  Each test compares the instrumented launch
with the uninstrumented one, signalled at the same moment.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.launch import BIN_DIR, REPO_ROOT, clean_environ, free_port

pytestmark = pytest.mark.integration


def launch(folder: Path, instrument: bool, app: str) -> subprocess.Popen[bytes]:
    env = clean_environ(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "SLOW_IMPORT_MARKER": str(folder / "imported"),
            "OTEL_SERVICE_NAME": "slow-import",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        }
    )
    launcher = [str(BIN_DIR / "opentelemetry-instrument")] if instrument else []
    command = [*launcher, str(BIN_DIR / "uvicorn"), app, "--port", str(free_port())]
    return subprocess.Popen(
        command,
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "stderr.log").open("wb"),
        start_new_session=True,
    )


def signalled(instrument: bool, sig: signal.Signals, *, after: float | None) -> tuple[int, str]:
    """Status and stderr of a launch signalled ``after`` seconds, or once the app imports."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        process = launch(folder, instrument, "tests.integration.slow_import_app:app")
        try:
            if after is None:
                deadline = time.monotonic() + 60
                while not (folder / "imported").exists() and time.monotonic() < deadline:
                    assert process.poll() is None, (folder / "stderr.log").read_text()
                    time.sleep(0.05)
                assert (folder / "imported").exists(), "the app never started importing"
            else:
                time.sleep(after)
            process.send_signal(sig)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        return code, (folder / "stderr.log").read_text(errors="replace")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_while_the_app_imports(sig: signal.Signals) -> None:
    """While the app module is importing, the signal ends both launches with the same status."""
    bare, _ = signalled(False, sig, after=None)
    code, stderr = signalled(True, sig, after=None)
    assert "Fatal Python error" not in stderr, stderr
    assert "SystemExit" not in stderr, stderr
    assert code == bare, stderr


@pytest.mark.parametrize("after", [0.15, 0.4, 0.8, 1.5])
def test_sigterm_during_interpreter_start_up(after: float) -> None:
    """SIGTERM at any moment of start-up (instrumentation loading included) is a plain SIGTERM."""
    code, stderr = signalled(True, signal.SIGTERM, after=after)
    assert "Fatal Python error" not in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert code == -signal.SIGTERM, stderr
