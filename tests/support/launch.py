"""Launch the demo app (or any ASGI app) for real, exporting to an :class:`OtlpCapture`.

A thin layer over ``examples/panel/runner.py`` (shared with ``make demo``)::

    with launch_app(capture=otlp_capture, env={"OTEL_DISTRO_REDACT_PII": "true"}) as app:
        app.client().get("/upstream/echo-headers")
        otlp_capture.wait_for(lambda: otlp_capture.spans(kind="SERVER"))
        app.stop()          # SIGTERM to the process group, SIGKILL after a bound

uvicorn re-raises SIGTERM after its graceful shutdown, so the final flush at exit only
happens when a SIGTERM handler was installed before uvicorn started (otel-distro installs
one; the stock SDK does not: use ``wait_for``, or ``app.stop(sig=signal.SIGINT)``).

Files the app writes (logs, the file fallback) land in ``app.workdir``, a temporary
folder removed after the ``with`` block; read it (and ``app.stdout_text()``) inside.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from examples.otlp_capture import OtlpCapture
from examples.panel.runner import (
    BIN_DIR,
    FAST_EXPORT,
    REPO_ROOT,
    STOCK_SDK_ENV,
    AppProcess,
    AppStartError,
    clean_environ,
    free_port,
)
from examples.panel.runner import launch_app as _launch_app

from .ci import require

__all__ = [
    "BIN_DIR",
    "FAST_EXPORT",
    "REPO_ROOT",
    "STOCK_SDK_ENV",
    "AppProcess",
    "AppStartError",
    "clean_environ",
    "free_port",
    "launch_app",
    "run_script",
]


@contextmanager
def launch_app(
    app: str = "examples.panel.app:app",
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    instrument: bool = True,
    extra_args: Sequence[str] = (),
    *,
    capture: OtlpCapture | None = None,
    stock_sdk: bool = False,
    startup_timeout: float = 30.0,
    workdir: Path | None = None,
) -> Iterator[AppProcess]:
    """Run ``[opentelemetry-instrument] uvicorn app`` exporting to ``capture`` (if given).

    ``env`` is applied last, over the harness defaults (``OTEL_SERVICE_NAME=panel-api``,
    ``ENVIRONMENT=test``, 200 ms span/log batches, 1 s metric interval).
    """
    require((BIN_DIR / "uvicorn").exists(), f"uvicorn is not installed in {BIN_DIR}")
    if instrument:
        require(
            (BIN_DIR / "opentelemetry-instrument").exists(),
            f"opentelemetry-instrument is not installed in {BIN_DIR}",
        )
    with _launch_app(
        app,
        env,
        workers=workers,
        instrument=instrument,
        stock_sdk=stock_sdk,
        otlp_endpoint=capture.endpoint if capture is not None else None,
        extra_args=extra_args,
        startup_timeout=startup_timeout,
        workdir=workdir,
    ) as process:
        yield process


def run_script(
    script: Path,
    args: Sequence[str],
    *,
    service: str,
    workdir: Path,
    capture: OtlpCapture | None,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> subprocess.CompletedProcess[str]:
    """``python script args`` in ``workdir`` with the repository importable, under
    ``opentelemetry-instrument`` exporting to ``capture`` when one is given (else plain)."""
    child = clean_environ({"OTEL_SERVICE_NAME": service, **FAST_EXPORT, **(env or {})})
    child["PYTHONPATH"] = str(REPO_ROOT)
    launcher: list[str] = []
    if capture is not None:
        require(
            (BIN_DIR / "opentelemetry-instrument").exists(),
            f"opentelemetry-instrument is not installed in {BIN_DIR}",
        )
        launcher = [str(BIN_DIR / "opentelemetry-instrument")]
        child["OTEL_EXPORTER_OTLP_ENDPOINT"] = capture.endpoint
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*launcher, sys.executable, str(script), *args],
        cwd=workdir,
        env=child,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
