"""The collector build: exactly the components the config uses, ``otelcol validate`` on the
config and on the documented production resolvers, and a clear message when a port is in use."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.collector_otlp import (
    CONFIG,
    MANIFEST,
)
from tests.integration.stack import COLLECTOR_BIN, REPO, Stack, require_stack_binaries

pytestmark = pytest.mark.integration


# --- the build ------------------------------------------------------------------------


def _components() -> dict[str, Any]:
    done = subprocess.run(
        [str(COLLECTOR_BIN), "components"], capture_output=True, text=True, timeout=60, check=True
    )
    parsed = yaml.safe_load(done.stdout)
    assert isinstance(parsed, dict)
    return parsed


def test_built_collector_has_exactly_the_components_the_config_uses() -> None:
    """The binary holds the manifest's modules, all at one release, and its component
    types are exactly those the configs (single, agent, gateway) configure."""
    require_stack_binaries()
    components = _components()
    configs = [
        yaml.safe_load((CONFIG.parent / name).read_text())
        for name in ("config.yaml", "agent.yaml", "gateway.yaml")
    ]
    manifest = yaml.safe_load(MANIFEST.read_text())
    kinds = ("receivers", "processors", "exporters", "connectors", "extensions")

    for kind in kinds:
        built = {item["name"] for item in components.get(kind) or []}
        used = {cid.split("/")[0] for config in configs for cid in config.get(kind) or {}}
        assert built == used, kind
        modules = {item["module"] for item in components.get(kind) or []}
        assert modules == {entry["gomod"] for entry in manifest.get(kind) or []}, kind
    versions = {entry["gomod"].split()[1] for kind in kinds for entry in manifest.get(kind) or []}
    assert versions == {f"v{manifest['dist']['version']}"}
    assert components["buildinfo"]["version"] == manifest["dist"]["version"]


@pytest.mark.parametrize("debug_exporter", ["nop", "debug"])
def test_otelcol_validate_accepts_the_config(debug_exporter: str, tmp_path: Path) -> None:
    """`otelcol validate` accepts collector/config.yaml with the debug exporter off and on."""
    require_stack_binaries()
    done = subprocess.run(
        [str(COLLECTOR_BIN), "validate", "--config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "OTELCOL_DEBUG_EXPORTER": debug_exporter},
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_otelcol_validate_rejects_a_broken_config(tmp_path: Path) -> None:
    """The validation above can fail: an unknown processor in a pipeline is an error."""
    require_stack_binaries()
    broken = CONFIG.read_text().replace(
        "processors: [memory_limiter, redaction, batch]",
        "processors: [memory_limiter, redaction, no_such_processor, batch]",
        1,
    )
    assert "no_such_processor" in broken
    (tmp_path / "config.yaml").write_text(broken)
    done = subprocess.run(
        [str(COLLECTOR_BIN), "validate", "--config", str(tmp_path / "config.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "no_such_processor" in done.stderr


def test_port_in_use_gives_a_clear_message(otel_stack: Stack, tmp_path: Path) -> None:
    """`stack.sh up` refuses to start on a taken port and names the variable to change."""
    env = dict(otel_stack.env)
    env["STACK_RUN_DIR"] = str(tmp_path / "run")
    env["STACK_OUTPUT_DIR"] = str(tmp_path / "output")
    done = subprocess.run(
        ["bash", str(REPO / "collector" / "scripts" / "stack.sh"), "up"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    port = env["JAEGER_OTLP_GRPC_PORT"]
    assert f"port {port} on 127.0.0.1 (JAEGER_OTLP_GRPC_PORT) is already in use" in done.stderr
    assert not list((tmp_path / "run").glob("*.pid"))


def _documented_resolvers() -> list[dict[str, Any]]:
    """The production resolvers shown in docs/collector.md and in collector/agent.yaml's
    comment, as mappings."""
    docs = (REPO / "docs" / "collector.md").read_text()
    found = [yaml.safe_load(m)["resolver"] for m in re.findall(r"`(resolver: \{.*?\}\})`", docs)]
    lines = (REPO / "collector" / "agent.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "follows the fleet" in line) + 1
    end = lines.index("#", start)
    comment = "\n".join(line[4:] for line in lines[start:end])  # "#   resolver:" -> "resolver:"
    for block in comment.split("resolver:\n")[1:]:
        found.append(yaml.safe_load(block))
    return found


def _validate_agent_with(
    resolver: dict[str, Any], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    config = yaml.safe_load((CONFIG.parent / "agent.yaml").read_text())
    for name in ("load_balancing/traces", "load_balancing/logs", "load_balancing/metrics"):
        config["exporters"][name]["resolver"] = resolver
    path = tmp_path / f"agent-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [str(COLLECTOR_BIN), "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_documented_production_resolvers_load(tmp_path: Path) -> None:
    """Each DNS and Kubernetes resolver the docs and the agent's comment show, put in the
    agent config, passes `validate` (which builds the exporters); the check can fail: a
    DNS port written as a number is refused."""
    require_stack_binaries()
    resolvers = _documented_resolvers()
    assert sorted(next(iter(r)) for r in resolvers) == ["dns", "dns", "k8s", "k8s"]
    for resolver in resolvers:
        done = _validate_agent_with(resolver, tmp_path)
        assert done.returncode == 0, f"{resolver}: {done.stderr[-1500:]}"
    numeric = {"dns": {"hostname": "otel-gateway.example", "port": 4317}}
    done = _validate_agent_with(numeric, tmp_path)
    assert done.returncode != 0 and "port" in done.stderr
