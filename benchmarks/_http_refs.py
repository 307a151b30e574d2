"""Earlier revisions of this repository as ``bench_http`` variants (``--ref REV``).

A revision is exported with ``git archive`` into a temporary folder and installed
(as a wheel, not editable) into its own venv, ``.cache/bench-venvs/ref-<sha>``,
next to exactly the packages of the project's venv (``pip freeze``, so the same
OpenTelemetry, FastAPI, uvicorn and structlog releases).  Its variant,
``otel-distro@<sha>``, runs like ``otel-distro``: the same app (the current
``benchmarks/server_app.py``, copied beside the server, since the repository
itself is kept off its ``PYTHONPATH`` so that ``otel_distro`` resolves to the
revision's) and the same environment.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._http_variants import INSTALL_TIMEOUT, VENVS, Variant, _run
from examples.panel.runner import REPO_ROOT


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def _requirements() -> str:
    """The project venv's packages, pinned, without the editable otel-distro itself."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
        timeout=INSTALL_TIMEOUT,
    ).stdout


def _installed_from(bin_dir: Path) -> Path:
    """Where ``otel_distro`` is imported from in that venv, outside the repository."""
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", "import otel_distro; print(otel_distro.__file__)"],
        cwd=bin_dir,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": str(bin_dir)},
    ).stdout
    return Path(out.strip()).resolve()


def ensure_ref_venv(sha: str) -> Path:
    """The ``bin`` folder of revision ``sha``'s venv, created and installed on first use."""
    venv = VENVS / f"ref-{sha[:12]}"
    stamp, bin_dir = venv / ".installed", venv / "bin"
    pins = _requirements()
    wanted = f"{sha}\n{hashlib.sha256(pins.encode()).hexdigest()}\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return bin_dir
    VENVS.mkdir(parents=True, exist_ok=True)
    log = VENVS / f"ref-{sha[:12]}.install.log"
    log.write_text("")
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        archive, source, requirements = Path(tmp, "src.tar"), Path(tmp, "src"), Path(tmp, "req")
        _run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", "-o", str(archive), sha], log)
        source.mkdir()
        _run(["tar", "-xf", str(archive), "-C", str(source)], log)
        requirements.write_text(pins)
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], log)
        pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q"]
        _run([*pip, "--upgrade", "pip"], log)
        # the freeze is complete: installed as it is (the project venv holds contribs
        # installed beside newer packages without their dependencies, and an older
        # revision may pin older releases: its code is measured on today's packages)
        _run([*pip, "--no-deps", "-r", str(requirements)], log)
        _run([*pip, "--no-deps", str(source)], log)
    where = _installed_from(bin_dir)
    if not where.is_relative_to(venv.resolve()):
        raise RuntimeError(f"otel_distro resolves to {where}, not to {venv}")
    stamp.write_text(wanted)
    return bin_dir


def ref_variant(rev: str, template: Variant) -> Variant:
    """``template`` (the ``otel-distro`` variant) at revision ``rev``, in its own venv."""
    try:
        sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError as exc:
        return Variant(f"otel-distro@{rev}", rev, error=f"unknown revision: {exc.stderr.strip()}")
    short = sha[:7]
    subject = _git("log", "-1", "--format=%cs %s", sha)
    variant = Variant(
        f"otel-distro@{short}",
        f"otel-distro at {short} ({subject[:60]}), same env",
        dict(template.env),
        spans=template.spans,
        logs=template.logs,
        repo_on_path=False,
    )
    try:
        print(f"bench_http: preparing {variant.name} in {VENVS}/ref-{sha[:12]}", flush=True)
        variant.bin_dir = ensure_ref_venv(sha)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        variant.error = f"install failed: {exc}"
    return variant
