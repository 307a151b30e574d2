"""The collector configs (single, agent, gateway) against the OCB manifest and each other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTOR = REPO / "collector"
MANIFEST = COLLECTOR / "builder-config.yaml"
CONFIGS = ("config.yaml", "agent.yaml", "gateway.yaml")
DOCS = REPO / "docs" / "collector.md"

# Go module (last path element) -> the component type it registers.
COMPONENT_TYPES = {
    "otlpreceiver": "otlp",
    "memorylimiterprocessor": "memory_limiter",
    "batchprocessor": "batch",
    "redactionprocessor": "redaction",
    "transformprocessor": "transform",
    "tailsamplingprocessor": "tail_sampling",
    "otlpexporter": "otlp_grpc",
    "debugexporter": "debug",
    "nopexporter": "nop",
    "fileexporter": "file",
    "loadbalancingexporter": "load_balancing",
    "spanmetricsconnector": "span_metrics",
    "healthcheckextension": "health_check",
}
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")


def _load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((COLLECTOR / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _types(config: dict[str, Any], kind: str) -> set[str]:
    return {name.split("/")[0] for name in config.get(kind) or {}}


def test_the_manifest_builds_exactly_the_components_the_configs_use() -> None:
    """Every component a config names is built, and nothing is built that no config uses."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    for kind in KINDS:
        built = {
            COMPONENT_TYPES[entry["gomod"].split()[0].rsplit("/", 1)[1]]
            for entry in manifest.get(kind) or []
        }
        used = set().union(*(_types(_load(name), kind) for name in CONFIGS))
        assert built == used, kind


def test_every_manifest_module_is_one_release() -> None:
    """Components (connectors included) are all pinned to the dist version."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    versions = {entry["gomod"].split()[1] for kind in KINDS for entry in manifest.get(kind) or []}
    assert versions == {f"v{manifest['dist']['version']}"}


@pytest.mark.parametrize("processor", ["redaction", "redaction/metrics", "transform/redact_text"])
def test_the_agent_redacts_exactly_like_the_single_collector(processor: str) -> None:
    """The agent's redaction stage is the single collector's, rule for rule."""
    assert (
        _load("agent.yaml")["processors"][processor]
        == _load("config.yaml")["processors"][processor]
    )


@pytest.mark.parametrize(
    "name", ["agent.yaml", "gateway.yaml", "jaeger/config.yaml", "jaeger/config-badger.yaml"]
)
def test_every_tier_variable_is_documented(name: str) -> None:
    """docs/collector.md names every ${env:...} variable of the agent, gateway and Jaeger
    configs."""
    lines = (COLLECTOR / name).read_text().splitlines()
    settings = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\$\{env:([A-Z0-9_]+)", settings))
    assert used
    documented = DOCS.read_text()
    assert sorted(v for v in used if f"`{v}`" not in documented) == []


def test_the_gateway_samples_after_computing_span_metrics() -> None:
    """Span metrics read the unsampled stream; only the exporting pipeline is tail-sampled."""
    pipelines = _load("gateway.yaml")["service"]["pipelines"]
    assert pipelines["traces/spanmetrics"]["exporters"] == ["span_metrics"]
    assert "tail_sampling" not in pipelines["traces/spanmetrics"]["processors"]
    assert "tail_sampling" in pipelines["traces"]["processors"]
    assert "span_metrics" in pipelines["metrics"]["receivers"]
    for signal in ("logs", "metrics"):
        assert "tail_sampling" not in pipelines[signal]["processors"]


def test_the_gateway_keeps_errors_security_events_and_slow_traces() -> None:
    """The tail-sampling policies name errors, a latency bound, and the security marks
    exactly as the distro writes them: the server span's attribute and both span events."""
    from otel_distro.security._events import ABUSE_EVENT, SPAN_ATTRIBUTE, VIOLATION_EVENT

    policies = {
        p["name"]: p for p in _load("gateway.yaml")["processors"]["tail_sampling"]["policies"]
    }
    assert policies["errors"]["status_code"]["status_codes"] == ["ERROR"]
    security = policies["security"]["ottl_condition"]
    assert security["span"] == [f'attributes["{SPAN_ATTRIBUTE}"] != nil']
    assert sorted(security["spanevent"]) == sorted(
        f'name == "{name}"' for name in (VIOLATION_EVENT, ABUSE_EVENT)
    )
    assert policies["slow"]["type"] == "latency"
    assert policies["the-rest"]["type"] == "probabilistic"


def test_the_agent_routes_traces_and_logs_by_trace_id() -> None:
    """Spans and logs of one trace reach one gateway; metrics go by service."""
    exporters = _load("agent.yaml")["exporters"]
    assert exporters["load_balancing/traces"]["routing_key"] == "traceID"
    assert exporters["load_balancing/logs"]["routing_key"] == "traceID"
    assert exporters["load_balancing/metrics"]["routing_key"] == "service"


@pytest.mark.parametrize(
    ("variables", "topology"), [((), "single"), (("TOPOLOGY=gateway",), "gateway")]
)
def test_make_stack_starts_the_chosen_topology(variables: tuple[str, ...], topology: str) -> None:
    """`make stack` runs stack.sh in the single-collector topology unless TOPOLOGY says
    otherwise; `make stack-down` needs no TOPOLOGY (it stops either)."""
    import subprocess

    def planned(*args: str) -> list[str]:
        done = subprocess.run(
            ["make", "-n", "--no-print-directory", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return [line for line in done.stdout.splitlines() if "stack.sh" in line]

    assert planned("stack", *variables) == [
        f"STACK_TOPOLOGY={topology} bash collector/scripts/stack.sh up"
    ]
    assert planned("stack-down", *variables) == ["bash collector/scripts/stack.sh down"]
