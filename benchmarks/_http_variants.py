"""The variants of ``bench_http``: how each server is launched, and the peer distros' venvs.

Every variant runs ``benchmarks.server_app:app`` under uvicorn (one worker) and,
when instrumented, exports over OTLP/HTTP protobuf to the same sink with its own
``service.name`` (``bench-<variant>``), which is how the sink tells them apart.
Export intervals and batch sizes are each distribution's defaults.

Peer distributions are installed into their own venvs under
``.cache/bench-venvs/<name>`` (never the project's), with FastAPI, uvicorn and
structlog, followed by the instrumentation bootstrap their documentation asks for.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from examples.panel.runner import REPO_ROOT, STOCK_SDK_ENV, _stock_sdk_path

VENVS = REPO_ROOT / ".cache" / "bench-venvs"
PROJECT_BIN = Path(sys.executable).parent
APP_PACKAGES = ("fastapi", "uvicorn", "structlog")
INSTALL_TIMEOUT = 900


@dataclass
class Variant:
    """One server configuration; ``error`` says why it cannot run (shown in its row)."""

    name: str
    label: str
    env: dict[str, str] = field(default_factory=dict)
    bin_dir: Path = PROJECT_BIN
    instrument: bool = True
    stock: bool = False
    spans: bool = True  # expected to export one server span per request
    logs: bool = True  # expected to export the route's log record
    repo_on_path: bool = True  # False: only a copy of the app is importable
    error: str | None = None

    def command(self, port: int) -> list[str]:
        launcher = [str(self.bin_dir / "opentelemetry-instrument")] if self.instrument else []
        return [
            *launcher,
            str(self.bin_dir / "uvicorn"),
            "benchmarks.server_app:app",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--workers", "1",
            "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip

    def python_path(self, workdir: Path) -> list[str]:
        """The server's PYTHONPATH: the repository (after the stock entry points), or,
        for an installed revision, a folder with only a copy of the app."""
        if not self.repo_on_path:
            package = workdir / "app" / "benchmarks"
            package.mkdir(parents=True)
            (package / "__init__.py").write_text("")
            shutil.copy2(REPO_ROOT / "benchmarks" / "server_app.py", package / "server_app.py")
            return [str(package.parent)]
        return [*([str(_stock_sdk_path(workdir))] if self.stock else []), str(REPO_ROOT)]


def _stock(name: str, label: str, *, all_signals: bool) -> Variant:
    signal = "otlp" if all_signals else "none"
    env = {
        "OTEL_PYTHON_DISTRO": STOCK_SDK_ENV["OTEL_PYTHON_DISTRO"],
        "OTEL_PYTHON_CONFIGURATOR": STOCK_SDK_ENV["OTEL_PYTHON_CONFIGURATOR"],
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": signal,
        "OTEL_LOGS_EXPORTER": signal,
    }
    return Variant(name, label, env, stock=True, logs=all_signals)


def core_variants() -> list[Variant]:
    """Uninstrumented, stock traces only, stock with all signals, and otel-distro."""
    return [
        Variant("bare", "uninstrumented uvicorn", instrument=False, spans=False, logs=False),
        _stock("stock-traces", "stock opentelemetry-instrument, traces only", all_signals=False),
        _stock(
            "stock-all", "stock opentelemetry-instrument, traces+logs+metrics", all_signals=True
        ),
        Variant(
            "otel-distro",
            "otel-distro: traces+logs+metrics, redaction, baggage, access log",
            {"OTEL_PYTHON_DISTRO": "otel_distro"},
        ),
    ]


def contrib_server_variant() -> Variant:
    """otel-distro with the contrib ASGI middleware instead of its own (the before figure)."""
    return Variant(
        "otel-distro-contrib",
        "otel-distro with OTEL_DISTRO_SERVER_MIDDLEWARE=contrib",
        {"OTEL_PYTHON_DISTRO": "otel_distro", "OTEL_DISTRO_SERVER_MIDDLEWARE": "contrib"},
    )


@dataclass(frozen=True)
class Peer:
    name: str
    label: str
    packages: tuple[str, ...]
    bootstrap: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    logs: bool = True  # whether its defaults export logs


PEERS = (
    Peer(
        "elastic-edot",
        "Elastic EDOT Python (elastic-opentelemetry), its defaults",
        ("elastic-opentelemetry",),
        ("edot-bootstrap", "--action=install"),
    ),
    Peer(
        "splunk",
        "Splunk (splunk-opentelemetry), its defaults",
        ("splunk-opentelemetry",),
        ("opentelemetry-bootstrap", "--action=install"),
    ),
    Peer(
        "aws-adot",
        "AWS ADOT Python (aws-opentelemetry-distro), its defaults",
        ("aws-opentelemetry-distro",),
        ("opentelemetry-bootstrap", "--action=install"),
        # the distro's documented selection; everything else stays its default
        (("OTEL_PYTHON_DISTRO", "aws_distro"), ("OTEL_PYTHON_CONFIGURATOR", "aws_configurator")),
        logs=False,  # its defaults export traces and metrics only
    ),
)


def _run(command: list[str], log: Path) -> None:
    with log.open("ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        result = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT, check=False
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}): {tail[0]}")


def ensure_peer_venv(peer: Peer) -> Path:
    """The ``bin`` folder of the peer's own venv, created and installed on first use."""
    venv = VENVS / peer.name
    stamp = venv / ".installed"
    bin_dir = venv / "bin"
    if stamp.exists():
        return bin_dir
    VENVS.mkdir(parents=True, exist_ok=True)
    log = VENVS / f"{peer.name}.install.log"
    log.write_text("")
    _run([sys.executable, "-m", "venv", "--clear", str(venv)], log)
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q"]
    _run([*pip, "--upgrade", "pip"], log)
    _run([*pip, *peer.packages, *APP_PACKAGES], log)
    _run([str(bin_dir / peer.bootstrap[0]), *peer.bootstrap[1:]], log)
    stamp.write_text(" ".join(peer.packages) + "\n")
    return bin_dir


def peer_variants() -> list[Variant]:
    """One variant per peer distribution; a failed install becomes the row's ``error``."""
    variants = []
    for peer in PEERS:
        variant = Variant(peer.name, peer.label, dict(peer.env), logs=peer.logs)
        try:
            print(f"bench_http: preparing {peer.name} in {VENVS / peer.name}", flush=True)
            variant.bin_dir = ensure_peer_venv(peer)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            variant.error = f"install failed: {exc}"
        variants.append(variant)
    return variants
