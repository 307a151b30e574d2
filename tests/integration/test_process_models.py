"""Process models: every worker exports once, under its own ``service.instance.id``.

Real launches of ``uvicorn --workers 2``, ``uvicorn --reload``, gunicorn with uvicorn
workers (with and without ``--preload``) and a plain ``os.fork()``, all under
``opentelemetry-instrument``, exporting to an :class:`OtlpCapture`.  Each request
must give exactly one server span (no duplicate providers or processors), each
worker process one instance id of its own, and each log record arrive once (no
second bridge or handler), including after the stop (no double flush at exit).
"""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support import OtlpCapture, launch_app, require
from tests.support.launch import (
    BIN_DIR,
    FAST_EXPORT,
    REPO_ROOT,
    AppProcess,
    clean_environ,
    free_port,
)

pytestmark = pytest.mark.integration

REQUESTS = 40


def fresh_connections(base_url: str, count: int) -> list[str]:
    """Request ids of ``count`` requests, each on a new connection, 8 at a time.

    Concurrent connections make every worker accept some (a lone sequential client
    may be served by whichever worker wakes first, every time).
    """

    def one(n: int) -> str:
        with httpx.Client(base_url=base_url, timeout=10.0) as client:
            response = client.post("/echo-log", json={"n": n}, headers={"Connection": "close"})
            assert response.status_code == 200
            return response.headers["x-request-id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def serving_pids(capture: OtlpCapture, trace_ids: list[str]) -> set[object]:
    """Process ids of the workers whose server spans for ``trace_ids`` have arrived."""
    wanted = set(trace_ids)
    return {
        s.resource.get("process.pid") for s in capture.spans(kind="SERVER") if s.trace_id in wanted
    }


def requests_on_every_worker(
    base_url: str, capture: OtlpCapture, workers: int, *, rounds: int = 8
) -> list[str]:
    """Request ids from rounds of fresh connections until every worker has served some.

    A worker still importing when the first round arrives (a loaded machine) leaves
    the others to accept it all; later rounds reach it once it listens.
    """
    trace_ids: list[str] = []
    for _ in range(rounds):
        trace_ids += fresh_connections(base_url, REQUESTS * workers)
        try:
            capture.wait_for(
                lambda: len(serving_pids(capture, trace_ids)) >= workers,
                timeout=10.0,
                message=f"server spans from {workers} workers",
            )
        except AssertionError:
            continue
        return trace_ids
    return trace_ids


def assert_one_export_per_worker(capture: OtlpCapture, trace_ids: list[str], workers: int) -> None:
    capture.wait_for(
        lambda: (
            len({s.trace_id for s in capture.spans(kind="SERVER")} & set(trace_ids))
            == len(trace_ids)
        ),
        timeout=30.0,
        message="a server span for every request",
    )
    server = [s for s in capture.spans(kind="SERVER") if s.trace_id in set(trace_ids)]
    per_trace = collections.Counter(s.trace_id for s in server)
    assert set(per_trace.values()) == {1}, "one server span per request, never two"
    assert len({s.span_id for s in capture.spans()}) == len(capture.spans()), "no span twice"
    instances: dict[object, set[object]] = collections.defaultdict(set)
    for span in server:
        instances[span.resource.get("process.pid")].add(span.resource.get("service.instance.id"))
    assert len(instances) == workers, f"requests served by {len(instances)} of {workers} workers"
    assert all(len(ids) == 1 for ids in instances.values()), instances
    all_ids = [next(iter(ids)) for ids in instances.values()]
    assert len(set(all_ids)) == workers, "each worker has its own service.instance.id"

    def echo_logs() -> list[object]:
        return [r for r in capture.logs() if r.body == "echo_log" and r.trace_id in set(trace_ids)]

    capture.wait_for(lambda: len(echo_logs()) >= len(trace_ids), timeout=30.0)
    logs = echo_logs()
    assert collections.Counter(r.trace_id for r in logs) == collections.Counter(trace_ids)  # type: ignore[attr-defined]


@pytest.mark.parametrize("workers", [2, 3])
def test_uvicorn_workers(otlp_capture: OtlpCapture, workers: int) -> None:
    """``uvicorn --workers N``: every worker exports its own requests, once."""
    with launch_app(capture=otlp_capture, workers=workers) as app:
        trace_ids = requests_on_every_worker(app.base_url, otlp_capture, workers)
        assert_one_export_per_worker(otlp_capture, trace_ids, workers)
        app.stop()


def test_uvicorn_reload(otlp_capture: OtlpCapture) -> None:
    """``uvicorn --reload``: the served process exports once; the reloader exports nothing."""
    with launch_app(capture=otlp_capture, extra_args=["--reload"]) as app:
        trace_ids = fresh_connections(app.base_url, 10)
        assert_one_export_per_worker(otlp_capture, trace_ids, 1)
        app.stop()


def gunicorn(capture: OtlpCapture, folder: Path, *, preload: bool) -> AppProcess:
    require((BIN_DIR / "gunicorn").exists(), f"gunicorn is not installed in {BIN_DIR}")
    port = free_port()
    env = clean_environ(
        {
            "OTEL_SERVICE_NAME": "panel-api",
            "ENVIRONMENT": "test",
            **FAST_EXPORT,
            "OTEL_EXPORTER_OTLP_ENDPOINT": capture.endpoint,
            "PYTHONPATH": str(REPO_ROOT),
        }
    )
    command = [
        str(BIN_DIR / "opentelemetry-instrument"),
        str(BIN_DIR / "gunicorn"),
        "examples.panel.app:app",
        "-k", "uvicorn.workers.UvicornWorker",
        "-w", "2",
        "-b", f"127.0.0.1:{port}",
        *(["--preload"] if preload else []),
    ]  # fmt: skip
    return AppProcess(port=port, workdir=folder, env=env, command=command)


@pytest.mark.parametrize("preload", [False, True], ids=["no-preload", "preload"])
def test_gunicorn_uvicorn_workers(otlp_capture: OtlpCapture, preload: bool) -> None:
    """gunicorn forks its workers after the SDK was set up: each still exports on its own."""
    with tempfile.TemporaryDirectory() as tmp:
        app = gunicorn(otlp_capture, Path(tmp), preload=preload)
        app.start()
        try:
            trace_ids = requests_on_every_worker(app.base_url, otlp_capture, 2)
            try:
                assert_one_export_per_worker(otlp_capture, trace_ids, 2)
            except AssertionError as error:
                raise AssertionError(f"{error}\n{app.output()}") from None
        finally:
            code = app.stop(sig=signal.SIGTERM)
        stderr = app.stderr_text()
    assert "Traceback" not in stderr, stderr
    assert code == 0, f"gunicorn exited with {code}\n{stderr}"


FORKING = textwrap.dedent(
    """
    import os, sys
    from opentelemetry import trace
    tracer = trace.get_tracer("fork-check")
    with tracer.start_as_current_span("before-fork"):
        pass
    pid = os.fork()
    with tracer.start_as_current_span("child" if pid == 0 else "parent"):
        pass
    if pid == 0:
        sys.exit(0)
    os.waitpid(pid, 0)
    """
)


def test_plain_fork_exports_from_both_sides(otlp_capture: OtlpCapture, tmp_path: Path) -> None:
    """After ``os.fork()`` both processes export their spans once each, at exit."""
    script = tmp_path / "forking.py"
    script.write_text(FORKING)
    env = clean_environ(
        {
            "OTEL_SERVICE_NAME": "fork-check",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_capture.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "60000",
        }
    )
    done = subprocess.run(
        [str(BIN_DIR / "opentelemetry-instrument"), sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    spans = otlp_capture.wait_for(
        lambda: (
            [s for s in otlp_capture.spans() if s.scope == "fork-check"]
            if len([s for s in otlp_capture.spans() if s.scope == "fork-check"]) >= 3
            else None
        ),
        timeout=20.0,
    )
    names = collections.Counter(s.name for s in spans)
    assert names == {"before-fork": 1, "parent": 1, "child": 1}, names
    by_name = {s.name: s.resource for s in spans}
    assert by_name["child"]["process.pid"] != by_name["parent"]["process.pid"]
    assert by_name["child"]["service.instance.id"] != by_name["parent"]["service.instance.id"]
