"""Real ``opentelemetry-instrument python script`` launches: the script's own logging
configuration and output behave as without the distro, records are exported, and a
planted secret is redacted in every output (files, stderr, stdout, OTel records)."""

from __future__ import annotations

import http.server
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import OtlpCapture
from tests.support.launch import run_script

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).with_name("good_guest_script.py")
REDACTED = "REDACTED"


def plant() -> str:
    return "s" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def run(
    mode: str,
    workdir: Path,
    env: dict[str, str],
    capture: OtlpCapture | None,
) -> subprocess.CompletedProcess[str]:
    """The script, under opentelemetry-instrument when *capture* is given."""
    return run_script(
        SCRIPT, [mode], service="good-guest", workdir=workdir, capture=capture, env=env
    )


def exported_text(capture: OtlpCapture) -> str:
    return repr([(log.body, log.attributes) for log in capture.logs()])


def test_file_handler_output_is_as_without_the_distro_but_redacted(
    otlp_capture: OtlpCapture, tmp_path: Path
) -> None:
    """The script's dictConfig file handler writes the same lines as without the distro
    (the secret redacted); stdout holds only its data; records are exported redacted."""
    secret = plant()
    env = {"GG_SECRET": secret}
    plain = run("file", tmp_path / "plain", env, None)
    ours = run("file", tmp_path / "ours", env, otlp_capture)
    expected = (tmp_path / "plain" / "app.log").read_text()
    written = (tmp_path / "ours" / "app.log").read_text()
    assert secret in expected
    assert written == expected.replace(secret, REDACTED)
    assert plain.stdout == ours.stdout == "data-line\n"
    assert ours.returncode == plain.returncode == 1
    otlp_capture.wait_for(
        lambda: any(log.body == "job failed" for log in otlp_capture.logs()),
        message="the script's records",
    )
    bodies = [log.body for log in otlp_capture.logs()]
    assert "starting job 1" in bodies and f"login password={REDACTED}" in bodies
    assert secret not in exported_text(otlp_capture)


def test_warnings_and_tracebacks_on_stderr_are_redacted(
    otlp_capture: OtlpCapture, tmp_path: Path
) -> None:
    """warnings.warn text, traceback.print_exc() and the default sys.excepthook reach
    stderr redacted; the uncaught exception is exported as one FATAL record."""
    secret = plant()
    plain = run("file", tmp_path / "plain", {"GG_SECRET": secret}, None)
    ours = run("file", tmp_path / "ours", {"GG_SECRET": secret}, otlp_capture)
    for text in (
        "UserWarning: deprecated client_secret=",
        "RuntimeError: connect failed password=",
        "ValueError: fatal api_key=",
    ):
        assert text in plain.stderr and text in ours.stderr, ours.stderr
    assert secret in plain.stderr and secret not in ours.stderr, ours.stderr
    fatal = otlp_capture.wait_for(
        lambda: [log for log in otlp_capture.logs() if log.body == "Uncaught exception"],
        message="the uncaught exception",
    )
    assert fatal[0].attributes["exception.type"] == "ValueError"
    assert secret not in exported_text(otlp_capture)


def test_uncaught_thread_exception_is_redacted(otlp_capture: OtlpCapture, tmp_path: Path) -> None:
    """threading.excepthook: the exception is printed redacted on stderr (by logging's last
    resort, the CLI having no handler) and exported; stdout holds only the data."""
    secret = plant()
    ours = run("thread", tmp_path, {"GG_SECRET": secret}, otlp_capture)
    assert ours.stdout == "data-line\n"
    assert "ConnectionError: lost password=" in ours.stderr and secret not in ours.stderr
    records = otlp_capture.wait_for(
        lambda: [log for log in otlp_capture.logs() if log.body == "Exception in thread worker"],
        message="the thread's exception",
    )
    assert records[0].attributes["exception.type"] == "ConnectionError"
    assert secret not in exported_text(otlp_capture)


@pytest.fixture
def upstream() -> Iterator[str]:
    """A local HTTP server answering 200 to every GET."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data"
    finally:
        server.shutdown()
        server.server_close()


def test_cli_stdout_is_only_its_data(
    otlp_capture: OtlpCapture, tmp_path: Path, upstream: str
) -> None:
    """An httpx command-line tool under the distro: stdout is exactly its data (no
    external_http_call or httpx INFO line); the call is still exported."""
    plain = run("cli", tmp_path / "plain", {"GG_URL": upstream}, None)
    ours = run("cli", tmp_path / "ours", {"GG_URL": upstream}, otlp_capture)
    assert plain.stdout == ours.stdout == "200\n", ours.stdout + ours.stderr
    records = otlp_capture.wait_for(
        lambda: [log for log in otlp_capture.logs() if log.body == "external_http_call"],
        message="the outbound-call record",
    )
    assert records[0].attributes["http.response.status_code"] == 200
    assert otlp_capture.wait_for(lambda: otlp_capture.spans(kind="CLIENT"))


def test_cli_with_log_stream_set_gets_lines_there(
    otlp_capture: OtlpCapture, tmp_path: Path, upstream: str
) -> None:
    """OTEL_DISTRO_LOG_STREAM=stderr asks for the distro's lines: they go to stderr, and
    stdout is still only the data."""
    env = {"GG_URL": upstream, "OTEL_DISTRO_LOG_STREAM": "stderr"}
    ours = run("cli", tmp_path, env, otlp_capture)
    assert ours.stdout == "200\n"
    assert "external_http_call" in ours.stderr
