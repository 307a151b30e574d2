"""``config/`` is the first room: it reads the environment and imports nothing downstream."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import otel_distro.config

CONFIG = Path(otel_distro.config.__file__).parent
ALLOWED = ("otel_distro.config", "otel_distro._report")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.py")), ids=lambda p: p.name)
def test_config_imports_only_the_standard_library_and_the_reporter(path: Path) -> None:
    """No OpenTelemetry, no third-party package, no other room of the distro (even lazily)."""
    for name in _imports(path):
        top = name.split(".")[0]
        if top == "otel_distro":
            assert name.startswith(ALLOWED), f"{path.name} imports {name}"
        else:
            assert top in sys.stdlib_module_names or top == "__future__", f"{path.name}: {name}"
