"""A RabbitMQ broker for the demo: ``PANEL_AMQP_URL`` when it answers, else a private node.

The private node comes from the Debian ``rabbitmq-server`` package: its own name,
ports (AMQP, distribution and Erlang port mapper, all on loopback), config and data
in a temporary folder, so it never touches a system broker; it is stopped, port
mapper included, when the context ends.  When neither is available the context
yields a :class:`Broker` with no URL and the reason, for the demo to print.
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
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["AMQP_ENV", "Broker", "Node", "private_node", "rabbitmq", "server", "wait_ready"]

AMQP_ENV = "PANEL_AMQP_URL"
SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
EPMD = Path("/usr/lib/erlang/bin/epmd")


@dataclass(frozen=True)
class Broker:
    """An AMQP URL to use (``url``), or why there is none (``reason``)."""

    url: str | None
    description: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def server() -> str | None:
    """The ``rabbitmq-server`` program (the Debian package's), or None."""
    if SERVER.exists():
        return str(SERVER)
    return shutil.which("rabbitmq-server")


def _aio_pika_missing() -> bool:
    try:
        import aio_pika  # noqa: F401
    except ImportError:
        return True
    return False


@contextmanager
def rabbitmq(startup_timeout: float = 60.0) -> Iterator[Broker]:
    """The broker the demo's SSE step uses, or a :class:`Broker` saying why there is none."""
    if _aio_pika_missing():
        yield Broker(None, "aio-pika is not installed (pip install 'otel-distro[rabbitmq]')")
        return
    given = os.environ.get(AMQP_ENV)
    if given:
        parts = urlsplit(given)
        if _answers(parts.hostname or "localhost", parts.port or 5672):
            yield Broker(given, f"RabbitMQ at ${AMQP_ENV}")
        else:
            yield Broker(None, f"${AMQP_ENV} is set but nothing answers there")
        return
    server_program = server()
    if server_program is None:
        yield Broker(None, "no RabbitMQ: set $PANEL_AMQP_URL or install rabbitmq-server")
        return
    with _private_node(server_program, startup_timeout) as broker:
        yield broker


@contextmanager
def _private_node(server: str, startup_timeout: float) -> Iterator[Broker]:
    with private_node(server, "otel_distro_demo") as node:
        took = wait_ready(node, startup_timeout)
        if took is None:
            tail = node.log.read_text(errors="replace").strip().splitlines()[-3:]
            yield Broker(None, "the local RabbitMQ did not start: " + " / ".join(tail))
        else:
            description = f"a private RabbitMQ node on 127.0.0.1:{node.port} (up in {took:.0f}s)"
            yield Broker(node.url, description)


@dataclass(frozen=True)
class Node:
    """A private node started by :func:`private_node`: its AMQP port, the environment
    that reaches it (``rabbitmqctl``) and its log."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"


@contextmanager
def private_node(server: str, name: str) -> Iterator[Node]:
    """Start a node named ``<name>_<port>@localhost`` (not waiting for it: see
    :func:`wait_ready`); stopped, port mapper included, when the context ends."""
    port, dist_port, epmd_port = _free_port(), _free_port(), _free_port()
    with tempfile.TemporaryDirectory(prefix=f"{name}-rabbitmq-") as tmp:
        base = Path(tmp)
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{port}\nloopback_users = none\n"
        )
        (base / "enabled_plugins").write_text("[].\n")
        env = {
            **os.environ,
            "HOME": str(base),
            "RABBITMQ_NODENAME": f"{name}_{port}@localhost",
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(base / "pid"),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(epmd_port),  # a port mapper of its own, stopped below
        }
        log = base / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [server],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield Node(port, env, log, process)
        finally:
            _stop(process, env, epmd_port)


def wait_ready(node: Node, timeout: float) -> float | None:
    """Seconds until the node answered on its AMQP port, or None: it stopped or timed out."""
    started = time.monotonic()
    while not _answers("127.0.0.1", node.port, timeout=0.5):
        if node.process.poll() is not None or time.monotonic() - started > timeout:
            return None
        time.sleep(0.25)
    return time.monotonic() - started


def _stop(process: subprocess.Popen[bytes], env: dict[str, str], epmd_port: int) -> None:
    """The node's whole process group, then its own port mapper (a daemon of its own)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    epmd = str(EPMD) if EPMD.exists() else shutil.which("epmd")
    if epmd:
        subprocess.run(
            [epmd, "-port", str(epmd_port), "-kill"],
            env=env,
            capture_output=True,
            timeout=10,
            check=False,
        )
