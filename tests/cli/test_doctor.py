"""``otel-distro doctor``: the start-up rules on demand, exit status, and secrets hidden."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

import pytest

from tests.cli.conftest import Run


@pytest.fixture
def listener() -> Iterator[str]:
    """An endpoint that accepts connections (what doctor probes)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_good_environment_is_healthy(cli: Run, listener: str) -> None:
    """Valid settings and an answering endpoint: exit 0, the endpoint named as ok."""
    done = cli("doctor", env={"OTEL_SERVICE_NAME": "svc", "OTEL_EXPORTER_OTLP_ENDPOINT": listener})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok       OTLP endpoint {listener} answers" in done.stdout
    assert done.stdout.rstrip().endswith("healthy")
    assert "OTEL_DISTRO_ACCESS_LOG" in done.stdout  # the effective configuration is shown


def test_each_bad_value_is_one_problem_line_naming_the_variable(cli: Run, listener: str) -> None:
    """Bad values exit 1 with one line per problem, each naming its variable and value."""
    env = {
        "OTEL_SERVICE_NAME": "svc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": listener,
        "LOG_LEVEL": "LOUD",
        "OTEL_BSP_MAX_QUEUE_SIZE": "-3",
        "OTEL_DISTRO_BAGGAGE_MAX_BYTES": "lots",
    }
    done = cli("doctor", env=env)
    assert done.returncode == 1
    problems = [line for line in done.stdout.splitlines() if line.startswith("  problem")]
    assert len(problems) == 3, problems
    for name, value in (
        ("LOG_LEVEL", "LOUD"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-3"),
        ("OTEL_DISTRO_BAGGAGE_MAX_BYTES", "lots"),
    ):
        assert sum(f"{name}='{value}'" in line for line in problems) == 1, name
    assert "3 problem(s)" in done.stdout


def test_an_explicit_endpoint_that_does_not_answer_is_a_problem(cli: Run) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT set to a closed port: exit 1, the variable named."""
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    done = cli("doctor", env={"OTEL_SERVICE_NAME": "svc", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    assert done.returncode == 1
    assert f"problem  OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} does not answer" in done.stdout


def test_conflicts_are_named(cli: Run, listener: str) -> None:
    """Another configurator, OTEL_CONFIG_FILE and a missing service name are each reported."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": listener,
        "OTEL_PYTHON_CONFIGURATOR": "other",
        "OTEL_CONFIG_FILE": "/etc/otel.yaml",
    }
    done = cli("doctor", env=env)
    assert done.returncode == 1
    assert "problem  OTEL_PYTHON_CONFIGURATOR='other'" in done.stdout
    assert "problem  OTEL_CONFIG_FILE='/etc/otel.yaml'" in done.stdout
    assert "warning  OTEL_SERVICE_NAME is not set" in done.stdout


def test_secrets_never_appear(cli: Run) -> None:
    """Planted secrets in secret settings, OTLP headers, a DSN and endpoint userinfo stay out."""
    planted = [secrets.token_urlsafe(24) for _ in range(5)]
    env = {
        "OTEL_SERVICE_NAME": "svc",
        "OTEL_DISTRO_JWT_SECRET": planted[0],
        "SENTRY_DSN": f"https://{planted[1]}@sentry.example/1",
        "OTEL_EXPORTER_OTLP_HEADERS": f"x-api-key={planted[2]},authorization=Bearer {planted[3]}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{planted[4]}@127.0.0.1:{_closed_port()}",
    }
    done = cli("doctor", env=env)
    output = done.stdout + done.stderr
    for value in planted:
        assert value not in output
    assert "headers x-api-key, authorization (values hidden)" in done.stdout
    assert "OTEL_DISTRO_JWT_SECRET" in done.stdout and "<set, hidden>" in done.stdout


def test_jaeger_is_checked_when_asked(cli: Run, listener: str) -> None:
    """--jaeger URL that does not answer is a warning, not a failure."""
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {"OTEL_SERVICE_NAME": "svc", "OTEL_EXPORTER_OTLP_ENDPOINT": listener}
    done = cli("doctor", "--jaeger", url, env=env)
    assert done.returncode == 0
    assert f"warning  Jaeger does not answer at {url}" in done.stdout
