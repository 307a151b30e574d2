"""``otel-distro doctor --production``: the deployment checklist, one line per check."""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run


@pytest.fixture
def listener() -> Iterator[str]:
    """A loopback endpoint that accepts connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _safe(endpoint: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "INFO",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    }


def test_a_safe_environment_passes_every_check(cli: Run, listener: str) -> None:
    """Production settings and an answering loopback endpoint: every line PASS, exit 0."""
    done = cli("doctor", "--production", env=_safe(listener))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert all(line.startswith("PASS") for line in lines[:-1]), done.stdout
    assert len(lines) > 8 and lines[-1] == "ready for production"


def test_an_unsafe_environment_names_each_failing_check(cli: Run, tmp_path: object) -> None:
    """Each unsafe setting fails its own named check, and the exit status is 1."""
    env = {
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "DEBUG",
        "EXTERNAL_HTTP_ENABLE_BODY_LOGGING": "true",
        "ENABLE_SENTRY": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
        "OTEL_CONFIG_FILE": "sdk.yaml",
        "OTEL_DISTRO_BAGGAGE_REQUIRE_SIGNATURE": "true",
    }
    done = cli("doctor", "--production", env=env)
    assert done.returncode == 1
    failed = {line.split(":")[0][6:] for line in done.stdout.splitlines() if line[:4] == "FAIL"}
    assert failed == {
        "ENVIRONMENT=production",
        "LOG_LEVEL not DEBUG",
        "body preview off",
        "Sentry enabled with a DSN",
        "OTLP endpoint answers",
        "sampling configured",
        "no OTEL_CONFIG_FILE bypassing redaction",
        "signing key for signed baggage",
    }, done.stdout


def test_a_remote_plain_http_endpoint_fails_the_tls_check(cli: Run, listener: str) -> None:
    """A non-loopback endpoint over http fails the TLS check; a loopback one does not."""
    env = {**_safe(listener), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector.example:4318"}
    done = cli("doctor", "--production", env=env)
    assert "FAIL  TLS for non-loopback endpoints: http://collector.example:4318" in done.stdout


def _line(stdout: str, check: str) -> str:
    (line,) = [x for x in stdout.splitlines() if x[6:].startswith(f"{check}:")]
    return line


@pytest.mark.parametrize(
    ("extra", "passed"),
    [
        # the gRPC exporter sends to a bare host:port over TLS unless *_INSECURE=true
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector.example:4317"}, True),
        (
            {
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector.example:4317",
                "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true",
            },
            False,
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector.example:4317"}, True),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "collector.example:4317",
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
            },
            False,
        ),
        # https is TLS whatever *_INSECURE says; http never is
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example:4317",
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
            },
            True,
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example:4317"}, False),
    ],
)
def test_the_tls_check_follows_the_grpc_exporter(
    cli: Run, listener: str, extra: dict[str, str], passed: bool
) -> None:
    """TLS is judged as the SDK's gRPC exporter decides it, per signal."""
    env = {**_safe(listener), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", **extra}
    done = cli("doctor", "--production", env=env)
    line = _line(done.stdout, "TLS for non-loopback endpoints")
    assert line.startswith("PASS" if passed else "FAIL"), done.stdout


def test_signals_not_exported_over_otlp_are_not_checked(cli: Run, listener: str) -> None:
    """Only the endpoints of signals whose exporter is OTLP must answer: with metrics and
    logs off, the default endpoint they would use is not probed."""
    env = {
        **{k: v for k, v in _safe(listener).items() if k != "OTEL_EXPORTER_OTLP_ENDPOINT"},
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": listener,
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "otel_distro_file",
    }
    done = cli("doctor", "--production", env=env)
    assert _line(done.stdout, "OTLP endpoint answers") == f"PASS  OTLP endpoint answers: {listener}"
    assert done.returncode == 0, done.stdout
    env["OTEL_TRACES_EXPORTER"] = "none"
    done = cli("doctor", "--production", env=env)
    assert "no signal exports over OTLP" in _line(done.stdout, "OTLP endpoint answers")


def test_sentry_required_by_the_flag(cli: Run, listener: str) -> None:
    """--require-sentry fails when Sentry is off; a DSN makes it pass and is never printed."""
    done = cli("doctor", "--production", "--require-sentry", env=_safe(listener))
    assert "FAIL  Sentry enabled with a DSN" in done.stdout and done.returncode == 1
    key = secrets.token_hex(16)
    env = {**_safe(listener), "ENABLE_SENTRY": "true", "SENTRY_DSN": f"https://{key}@o1.ingest/1"}
    done = cli("doctor", "--production", "--require-sentry", env=env)
    assert "PASS  Sentry enabled with a DSN" in done.stdout
    assert key not in done.stdout + done.stderr


def test_log_file_without_rotation_fails(cli: Run, listener: str) -> None:
    """LOG_TO_FILE=true with rotation off fails the log-file check, naming the variables."""
    env = {**_safe(listener), "LOG_TO_FILE": "true", "LOG_FILE_BACKUP_COUNT": "0"}
    done = cli("doctor", "--production", env=env)
    assert "FAIL  log file writable: LOG_TO_FILE=true without rotation" in done.stdout


def test_an_unwritable_log_folder_fails(cli: Run, listener: str, tmp_path: Path) -> None:
    """LOG_DIR below a regular file cannot be created: the check fails, whoever runs it
    (permission bits alone would pass for root), and a creatable folder passes."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {**_safe(listener), "LOG_TO_FILE": "true", "LOG_DIR": str(blocker / "logs")}
    done = cli("doctor", "--production", env=env)
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("FAIL")]
    assert line.startswith("FAIL  log file writable: LOG_DIR=") and "is not a folder" in line
    assert done.returncode == 1
    env["LOG_DIR"] = str(tmp_path / "new" / "logs")
    done = cli("doctor", "--production", env=env)
    assert "PASS  log file writable:" in done.stdout and done.returncode == 0, done.stdout
    assert not (tmp_path / "new").exists(), "the check creates nothing"


def test_json_output_for_ci(cli: Run, listener: str) -> None:
    """--json prints one object: ok, and every check with name, passed and detail."""
    env = {**_safe(listener), "LOG_LEVEL": "DEBUG"}
    done = cli("doctor", "--production", "--json", env=env)
    report = json.loads(done.stdout)
    assert report["ok"] is False and done.returncode == 1
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    assert failed == ["LOG_LEVEL not DEBUG"]


def test_an_invalid_value_fails_the_settings_check(cli: Run, listener: str) -> None:
    """A value the settings table rejects fails "settings valid", naming the variable."""
    env = {**_safe(listener), "LOG_FILE_MAX_BYTES": "lots"}
    done = cli("doctor", "--production", env=env)
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("FAIL")]
    assert line.startswith("FAIL  settings valid:") and "LOG_FILE_MAX_BYTES" in line
    assert "lots" in line and done.returncode == 1


@pytest.mark.parametrize(
    ("extra", "check"),
    [
        ({"ENABLE_OPENTELEMETRY": "false"}, "telemetry enabled"),
        ({"OTEL_SDK_DISABLED": "true"}, "telemetry enabled"),
        ({"OTEL_DISTRO_RAISE_INTERNAL_ERRORS": "true"}, "internal errors contained"),
    ],
)
def test_telemetry_off_or_raising_internal_errors_fails(
    cli: Run, listener: str, extra: dict[str, str], check: str
) -> None:
    """Production with telemetry switched off, or with the test suites' switch that lets
    the distro's own faults raise into the app, fails that one named check."""
    done = cli("doctor", "--production", env={**_safe(listener), **extra})
    failed = [x[6:].split(":")[0] for x in done.stdout.splitlines() if x.startswith("FAIL")]
    assert failed == [check] and done.returncode == 1, done.stdout


@pytest.mark.parametrize("option", ["--json", "--require-sentry"])
def test_production_options_without_production_are_refused(cli: Run, option: str) -> None:
    """`doctor --json` alone would print text to a pipeline expecting JSON: it is a usage
    error (exit 2) naming --production, and nothing is checked."""
    done = cli("doctor", option)
    assert done.returncode == 2 and "--production" in done.stderr
    assert done.stdout == ""


def test_credentials_in_an_endpoint_are_never_printed(cli: Run, listener: str) -> None:
    """An endpoint with a user and password in it is named without them, in text and JSON."""
    password = secrets.token_hex(12)
    remote = f"http://svc:{password}@127.0.0.1:{_closed_port()}/otlp"
    env = {**_safe(listener), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": remote}
    for extra in ((), ("--json",)):
        done = cli("doctor", "--production", *extra, env=env)
        assert done.returncode == 1
        assert password not in done.stdout + done.stderr
        assert "http://REDACTED:REDACTED@127.0.0.1:" in done.stdout
