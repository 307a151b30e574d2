"""The two-tier stack for tests: agent, two gateways and Jaeger on Badger, free ports.

:func:`start_gateway_stack` runs ``STACK_TOPOLOGY=gateway collector/scripts/stack.sh
up`` (what ``make stack TOPOLOGY=gateway`` runs) with every port free on 127.0.0.1
and private folders, and returns a :class:`GatewayStack`: the Jaeger helpers of
:class:`~tests.integration.stack.Stack` plus each gateway's file output and
process control.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.stack import (
    COLLECTOR_BIN,
    HOST,
    JAEGER_BIN,
    Stack,
    StackError,
    _free_ports,
    require_stack_binaries,
)

__all__ = ["GATEWAYS", "GatewayStack", "start_gateway_stack"]

GATEWAYS = ("gateway-1", "gateway-2")
NAMES = ("agent", *GATEWAYS, "jaeger")
_PORT_VARS = (
    "OTELCOL_OTLP_GRPC_PORT",
    "OTELCOL_OTLP_HTTP_PORT",
    "OTELCOL_HEALTH_PORT",
    "OTELCOL_METRICS_PORT",
    "GATEWAY_1_OTLP_GRPC_PORT",
    "GATEWAY_1_OTLP_HTTP_PORT",
    "GATEWAY_1_HEALTH_PORT",
    "GATEWAY_1_METRICS_PORT",
    "GATEWAY_2_OTLP_GRPC_PORT",
    "GATEWAY_2_OTLP_HTTP_PORT",
    "GATEWAY_2_HEALTH_PORT",
    "GATEWAY_2_METRICS_PORT",
    "JAEGER_OTLP_GRPC_PORT",
    "JAEGER_QUERY_HTTP_PORT",
    "JAEGER_QUERY_GRPC_PORT",
    "JAEGER_HEALTH_PORT",
)
_START_ATTEMPTS = 3


@dataclass
class GatewayStack(Stack):
    """A running agent -> gateways -> Jaeger stack."""

    def _run(self, *args: str) -> str:
        done = self._script(*args, timeout=180.0)
        if done.returncode != 0:
            logs = "".join(f"\n--- {name} log ---\n{self.log(name)}" for name in NAMES)
            raise StackError(
                f"stack.sh {' '.join(args)} failed ({done.returncode}):\n{done.stderr}{logs}"
            )
        return done.stderr

    def gateway_output(self, gateway: str, signal_name: str) -> list[dict[str, Any]]:
        """Every OTLP-JSON line ``gateway`` wrote for ``traces``, ``logs`` or ``metrics``."""
        records: list[dict[str, Any]] = []
        for path in sorted((self.output_dir / gateway).glob(f"{signal_name}*.jsonl")):
            for line in path.read_text(errors="replace").splitlines():
                if line.strip():
                    records.append(json.loads(line))
        return records

    def restart(self, name: str) -> None:
        """Stop ``name`` (if running) and start it again on its ports."""
        self._run("restart", name)

    def kill(self, name: str) -> None:
        """SIGKILL ``name``'s process group, as a crash would."""
        pid = self.pid(name)
        if pid is None:
            raise StackError(f"{name} has no pid file")
        os.killpg(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop every process; kill the groups the script could not stop."""
        try:
            self._script("down", timeout=90.0)
        finally:
            for name in NAMES:
                pid = self.pid(name)
                if pid is None:
                    continue
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


def start_gateway_stack(base_dir: Path, settings: Mapping[str, str] | None = None) -> GatewayStack:
    """Start the two-tier stack under ``base_dir``; ``settings`` are extra config variables
    (``OTELCOL_TAIL_*`` ...). The caller must call :meth:`GatewayStack.stop`."""
    require_stack_binaries()
    for attempt in range(1, _START_ATTEMPTS + 1):
        stack = _configure(base_dir / f"attempt-{attempt}", settings or {})
        try:
            stack._run("up")
        except StackError:
            stack.stop()
            if attempt < _START_ATTEMPTS:
                continue
            raise
        except BaseException:
            stack.stop()
            raise
        return stack
    raise AssertionError("unreachable")


def _configure(base_dir: Path, settings: Mapping[str, str]) -> GatewayStack:
    ports = dict(zip(_PORT_VARS, _free_ports(len(_PORT_VARS)), strict=True))
    output_dir = base_dir / "output"
    run_dir = base_dir / "run"
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTELCOL_")}
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        {
            "STACK_TOPOLOGY": "gateway",
            "STACK_HOST": HOST,
            "STACK_OUTPUT_DIR": str(output_dir),
            "STACK_RUN_DIR": str(run_dir),
            "OTELCOL_BIN": str(COLLECTOR_BIN),
            "JAEGER_BIN": str(JAEGER_BIN),
            "OTELCOL_FILE_FLUSH_INTERVAL": "200ms",
            "OTELCOL_BATCH_TIMEOUT": "200ms",
            **settings,
        }
    )
    return GatewayStack(
        otlp_http_endpoint=f"http://{HOST}:{ports['OTELCOL_OTLP_HTTP_PORT']}",
        otlp_grpc_endpoint=f"http://{HOST}:{ports['OTELCOL_OTLP_GRPC_PORT']}",
        jaeger_api=f"http://{HOST}:{ports['JAEGER_QUERY_HTTP_PORT']}",
        output_dir=output_dir,
        run_dir=run_dir,
        env=env,
    )
