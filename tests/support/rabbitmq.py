"""A throwaway RabbitMQ node on loopback, from the Debian ``rabbitmq-server`` package.

The node is the demo's private node (:func:`examples.panel.rabbitmq.private_node`): its
own name, ports (port mapper included), config and data folder, so it never touches a
system broker or another run's node; it is stopped on exit.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from examples.panel.rabbitmq import SERVER, private_node, server, wait_ready

from .ci import require


@dataclass(frozen=True)
class Broker:
    url: str
    host: str
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl`` against this node (e.g. ``close_all_connections``)."""
        binary = SERVER.with_name("rabbitmqctl")
        command = str(binary) if binary.exists() else str(shutil.which("rabbitmqctl"))
        done = subprocess.run(
            [command, "-n", self.env["RABBITMQ_NODENAME"], *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout


@contextmanager
def rabbitmq_broker(startup_timeout: float = 60.0) -> Iterator[Broker]:
    """Start a private node on a free loopback port; yield its AMQP URL."""
    program = server()
    require(program is not None, "rabbitmq-server is not installed")
    assert program is not None
    with private_node(program, "otel_distro_test") as node:
        if wait_ready(node, startup_timeout) is None:
            raise RuntimeError(f"RabbitMQ did not start:\n{node.log.read_text()[-3000:]}")
        yield Broker(node.url, "127.0.0.1", node.port, node.log, node.env)
