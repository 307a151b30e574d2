"""The peer venv and the peer sources: the installed versions, their own test suites.

The peer venv (``.peer/venv``) is built from the same interpreter as the project venv,
with exactly the project venv's packages (``pip freeze``), otel-distro installed from this
checkout (a wheel, not editable: an editable install would put this repository, and its
``tests`` package, on every suite's path) and the suites' test dependencies next to them.
Sources are the source distributions of the versions installed in the project venv
(``pip download --no-binary :all: --no-deps``), cached in ``.peer/sdist``; each run
extracts them afresh and removes their package folder, so the tests import the
installed package.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".peer"
VENV = WORK / "venv"
PEER_PYTHON = VENV / "bin" / "python"
INSTRUMENT = VENV / "bin" / "opentelemetry-instrument"

# Test dependencies of the three suites (from their pyproject dependency groups, and
# httpx's requirements.txt for the packages its tests import); versions the project
# venv has are pinned to it.  hatchling and its plugins build the sdists' metadata.
TEST_DEPENDENCIES = (
    "pytest",
    "pytest-asyncio",
    "simplejson",
    "time-machine",
    "rich<14",
    "trio",
    "trustme",
    "chardet==5.2.0",
    "brotli",
    "zstandard",
    "h2",
    "socksio",
    "jinja2",
    "itsdangerous",
    "python-multipart",
    "pyyaml",
    "httpx2[zstd]",
    "blockbuster",
    "hatchling",
    "hatch-vcs",
    "hatch-fancy-pypi-readme",
)


@dataclass(frozen=True)
class Suite:
    """One peer project: its distribution, the folder its sdist keeps the package in."""

    name: str
    package_dir: str
    pytest_args: tuple[str, ...]
    parallel: bool = True  # False: the suite's servers use fixed ports (httpx: 8000)

    @property
    def version(self) -> str:
        return importlib.metadata.version(self.name)

    @property
    def source(self) -> Path:
        return WORK / "src" / f"{self.name}-{self.version}"


def _run(*command: str | Path) -> None:
    subprocess.run([str(part) for part in command], check=True, cwd=REPO)


def _frozen() -> str:
    """The project venv's packages (everything but editable installs), pinned."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def ensure_venv() -> None:
    """Build the peer venv when missing or when the project venv changed; install the distro."""
    frozen = _frozen()
    constraints = WORK / "constraints.txt"
    stamp = VENV / ".peer-stamp"
    key = hashlib.sha256((frozen + "\n".join(TEST_DEPENDENCIES)).encode()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == key and PEER_PYTHON.exists()):
        print("peer-suites: building the peer venv", flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        WORK.mkdir(exist_ok=True)
        constraints.write_text(frozen)
        base = getattr(sys, "_base_executable", sys.executable)
        _run(base, "-m", "venv", VENV)
        pip = (PEER_PYTHON, "-m", "pip", "install", "-q", "--disable-pip-version-check")
        # the freeze is complete, and holds contribs installed beside newer releases
        # without their dependencies (Makefile SIDE_BY_SIDE): installed as it is
        _run(*pip, "--no-deps", "-r", constraints)
        _run(*pip, "-c", constraints, *TEST_DEPENDENCIES)
        stamp.write_text(key)
    _run(
        PEER_PYTHON,
        *("-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps"),
        *("--no-build-isolation", "--force-reinstall", str(REPO)),
    )


def ensure_source(suite: Suite) -> Path:
    """A fresh copy of the suite's sdist (its tests), without its own package folder."""
    cache = WORK / "sdist"
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"{suite.name}-{suite.version}.tar.gz"
    if not archive.exists():
        _run(
            PEER_PYTHON,
            *("-m", "pip", "download", "-q", "--disable-pip-version-check"),
            *("--no-binary", ":all:", "--no-deps", "--no-build-isolation"),
            *(f"{suite.name}=={suite.version}", "-d", cache),
        )
    if not archive.exists():
        raise SystemExit(f"peer-suites: pip download left no {archive.name}")
    shutil.rmtree(suite.source, ignore_errors=True)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(suite.source.parent, filter="data")
        else:  # Python before 3.10.12: an sdist from PyPI, of a pinned version
            tar.extractall(suite.source.parent)  # noqa: S202
    if not (suite.source / "tests").is_dir():
        raise SystemExit(f"peer-suites: the {archive.name} sdist has no tests/ folder")
    shutil.rmtree(suite.source / suite.package_dir, ignore_errors=True)
    return suite.source
