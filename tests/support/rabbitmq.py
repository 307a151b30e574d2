"""A throwaway RabbitMQ node on loopback, from the Debian ``rabbitmq-server`` package.

The node gets its own name, ports, config and data folder, so it never touches a
system broker; it is stopped (and its Erlang port mapper with it) on exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .ci import require

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    require(SERVER.exists() or shutil.which("rabbitmq-server"), "rabbitmq-server is not installed")
    port, dist_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory(prefix="rabbitmq-") as tmp:
        base = Path(tmp)
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{port}\nloopback_users = none\n"
        )
        (base / "enabled_plugins").write_text("[].\n")
        env = {
            **os.environ,
            "HOME": str(base),
            "RABBITMQ_NODENAME": f"otel_distro_test_{port}@localhost",
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(base / "pid"),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        log = base / "server.log"
        binary = str(SERVER) if SERVER.exists() else str(shutil.which("rabbitmq-server"))
        with log.open("wb") as out:
            process = subprocess.Popen(
                [binary], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"RabbitMQ did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
            yield Broker(f"amqp://guest:guest@127.0.0.1:{port}/", "127.0.0.1", port, log, env)
        finally:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(
                ["pkill", "-f", f"otel_distro_test_{port}@localhost"], check=False, env=env
            )
            # the Erlang port mapper the node started; it refuses while other nodes live
            epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
            if Path(epmd).exists():
                subprocess.run(
                    [epmd, "-kill"], check=False, env=env, capture_output=True, timeout=10
                )
