"""The stack's files, checked without running a collector: docker-compose.yml is valid
for a real Compose implementation and agrees with the local stack (same collector
config, image versions equal to what we build); collector/config.yaml's redaction
rules do what its comments say and are documented."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import require

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
MANIFEST = REPO / "collector" / "builder-config.yaml"
JAEGER_GO_MOD = REPO / "collector" / "jaeger" / "go.mod"
COLLECTOR_CONFIG = REPO / "collector" / "config.yaml"
JAEGER_BIN = REPO / ".cache" / "stack" / "jaeger" / "jaeger"
DOCS = REPO / "docs" / "collector.md"


def _compose_command() -> list[str] | None:
    """`docker compose` if the client has the plugin, else Debian's `docker-compose`."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, env=clean, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _compose(*args: str) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    require(command, "no Compose implementation (install Debian's docker-compose package)")
    assert command is not None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(REPO)}
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The compose file as the Compose implementation resolves it."""
    done = _compose("config")
    assert done.returncode == 0, done.stderr
    parsed = yaml.safe_load(done.stdout)
    assert isinstance(parsed, dict)
    return parsed


def _image(resolved: dict[str, Any], service: str) -> tuple[str, str]:
    name, _, tag = str(resolved["services"][service]["image"]).rpartition(":")
    return name, tag


def test_compose_validates_the_file() -> None:
    """`config -q` (the Compose implementation's own validation) accepts the file."""
    done = _compose("config", "-q")
    assert done.returncode == 0, done.stderr


def test_compose_validation_rejects_a_broken_file(tmp_path: Path) -> None:
    """The validation above can fail: a service with an unknown key is rejected."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE_FILE.read_text().replace("    restart: unless-stopped", "    restrat: x", 1)
    )
    command = _compose_command()
    require(command, "no Compose implementation (install Debian's docker-compose package)")
    assert command is not None
    done = subprocess.run(
        [*command, "-f", str(broken), "config", "-q"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "restrat" in done.stderr + done.stdout


def test_collector_image_is_the_release_the_manifest_builds(resolved: dict[str, Any]) -> None:
    """The contrib image tag equals the single release every manifest module is pinned to."""
    name, tag = _image(resolved, "collector")
    assert name == "otel/opentelemetry-collector-contrib"
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert tag == manifest["dist"]["version"]
    component_versions = {
        entry["gomod"].split()[1]
        for kind in ("receivers", "processors", "exporters", "extensions")
        for entry in manifest[kind]
    }
    assert component_versions == {f"v{tag}"}


def test_jaeger_image_is_the_version_the_recipe_builds(resolved: dict[str, Any]) -> None:
    """The Jaeger image tag is the v2 release of the module version in the recipe:
    module v1.N.x ships Jaeger v2.(N-63).x (v1.63.0 was v2.0.0)."""
    name, tag = _image(resolved, "jaeger")
    assert name == "jaegertracing/jaeger"
    found = re.search(
        r"^\s*github\.com/jaegertracing/jaeger v1\.(\d+)\.(\d+)", JAEGER_GO_MOD.read_text(), re.M
    )
    assert found, "collector/jaeger/go.mod does not require github.com/jaegertracing/jaeger v1.x"
    assert tag == f"2.{int(found.group(1)) - 63}.{found.group(2)}"


def test_built_jaeger_reports_the_image_version() -> None:
    """The locally built Jaeger says it is the same release as the compose image."""
    require(JAEGER_BIN.is_file(), f"{JAEGER_BIN} is missing: run `make stack-build`")
    done = subprocess.run(
        [str(JAEGER_BIN), "version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    tag = compose["services"]["jaeger"]["image"].rpartition(":")[2]
    assert f'"gitVersion":"v{tag}"' in (done.stdout + done.stderr).replace(" ", "")


def test_collector_runs_the_repository_config(resolved: dict[str, Any]) -> None:
    """Compose mounts collector/config.yaml (the file `make stack` runs) and points the
    collector at it, listening on all container interfaces and exporting to the
    jaeger service, with its file output on a writable host folder."""
    collector = resolved["services"]["collector"]
    mounts = {}
    for volume in collector["volumes"]:
        if isinstance(volume, dict):
            mounts[volume["target"]] = (volume["source"], volume.get("read_only", False))
        else:
            source, target, *mode = volume.split(":")
            mounts[target] = (source, mode == ["ro"])
    config_target = next(
        arg.partition("=")[2] for arg in collector["command"] if arg.startswith("--config=")
    )
    assert mounts[config_target] == (str(COLLECTOR_CONFIG), True)
    env = collector["environment"]
    assert env["OTELCOL_OTLP_GRPC_ENDPOINT"] == "0.0.0.0:4317"
    assert env["OTELCOL_OTLP_HTTP_ENDPOINT"] == "0.0.0.0:4318"
    assert env["OTELCOL_JAEGER_ENDPOINT"] == "jaeger:4317"
    output_source, read_only = mounts[env["OTELCOL_OUTPUT_DIR"]]
    assert not read_only
    assert Path(output_source).is_relative_to(REPO)
    app_env = resolved["services"]["app"]["environment"]
    assert app_env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"


def test_every_config_variable_is_documented() -> None:
    """docs/collector.md names every ${env:...} variable collector/config.yaml reads."""
    lines = COLLECTOR_CONFIG.read_text().splitlines()
    settings = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\$\{env:([A-Z0-9_]+)", settings))
    assert used
    documented = DOCS.read_text()
    assert sorted(name for name in used if f"`{name}`" not in documented) == []


# --- collector/config.yaml's redaction rules, checked as regular expressions -------
# (RE2, which the collector uses, and Python's re agree on these patterns.)


def _processors() -> dict[str, Any]:
    processors = yaml.safe_load(COLLECTOR_CONFIG.read_text())["processors"]
    assert isinstance(processors, dict)
    return processors


def test_span_name_rules_are_the_attribute_value_rules() -> None:
    """transform/redact_text masks span names, status messages and event names with
    exactly the value patterns the redaction processor applies to attributes."""
    blocked = set(_processors()["redaction"]["blocked_values"])
    groups = _processors()["transform/redact_text"]["trace_statements"]
    by_field: dict[str, set[str]] = {}
    for group in groups:
        for statement in group["statements"]:
            found = re.fullmatch(r'replace_pattern\(([\w.]+), "(.*)", "\*\*\*\*"\)', statement)
            assert found, statement
            pattern = found.group(2).replace("\\\\", "\\")
            by_field.setdefault(found.group(1), set()).add(pattern)
    assert by_field == {
        "span.name": blocked,
        "span.status.message": blocked,
        "spanevent.name": blocked,
    }


def test_metrics_redaction_is_the_same_rules_without_summary() -> None:
    """redaction/metrics inherits every rule; only the summary attribute is off."""
    processors = _processors()
    assert processors["redaction/metrics"] == {**processors["redaction"], "summary": "silent"}


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("password", True),
        ("user.password", True),
        ("db.PASSWORD", True),
        ("http.request.header.authorization", True),
        ("http.request.header.cookie", True),
        ("http.response.header.set-cookie", True),
        ("x-api-key", True),
        ("refresh_token", True),
        ("client_secret", True),
        ("gen_ai.usage.input_tokens", False),
        ("session.id", False),
        ("http.route", False),
        ("tokenizer", False),
        ("secretary.name", False),
    ],
)
def test_secret_key_rule(key: str, masked: bool) -> None:
    """Keys that name a secret (as their last segment) are masked; others are not."""
    (pattern,) = _processors()["redaction"]["blocked_key_patterns"]
    assert bool(re.search(pattern, key)) is masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("4111 1111 1111 1111", "****"),
        ("card 5500-0000-0000-0004 ok", "card **** ok"),
        ("amex 378282246310005", "amex ****"),
        ("Authorization: Bearer abcdefghijklmnop0123456789", "Authorization: ****"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt ****"),
        # ordinary values stay as they are
        ("0af7651916cd43dd8448eb211c80319c", None),
        ("2026-11-28T00:25:32.123456789Z", None),
        ("1732752000123456789", None),
        ("order 12345678", None),
        ("the bearer of this note", None),
        ("+31 20 123 4567", None),
    ],
)
def test_secret_value_rules(value: str, masked: str | None) -> None:
    """Card numbers, bearer tokens and JWTs inside text are masked; ids, timestamps
    and other ordinary values are left unchanged."""
    result = value
    for pattern in _processors()["redaction"]["blocked_values"]:
        result = re.sub(pattern, "****", result)
    assert result == (value if masked is None else masked)
