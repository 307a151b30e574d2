"""docs/architecture.md names every package and module of ``otel_distro`` in its map."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "otel_distro"
DOC = ROOT / "docs" / "architecture.md"


def required_names() -> set[str]:
    """``pkg/`` per package, ``pkg/module.py`` (``module.py`` at the top) per module."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if path.name == "__init__.py":
            names.add(rel[: -len("__init__.py")] or "__init__.py")
        else:
            names.add(rel)
    return names


def mapped_names(text: str) -> set[str]:
    """The names in the map's first column; ``pkg/a.py``, ``_b.py`` in one cell is ``pkg/_b.py``."""
    names = set()
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        package = ""
        for token in re.findall(r"`([^`]+)`", line.split("|")[1]):
            if "/" in token:
                package = token.rpartition("/")[0]
                names.add(token)
            else:
                names.add(f"{package}/{token}" if package else token)
    return names


def test_every_package_and_module_is_in_the_map() -> None:
    missing = sorted(required_names() - mapped_names(DOC.read_text(encoding="utf-8")))
    assert missing == [], f"add a line for each to the map in docs/architecture.md: {missing}"


def test_the_map_names_nothing_that_is_gone() -> None:
    gone = sorted(mapped_names(DOC.read_text(encoding="utf-8")) - required_names())
    assert gone == [], f"the map in docs/architecture.md names what no longer exists: {gone}"


def test_a_cell_naming_modules_of_a_package_counts_each() -> None:
    row = "| `redaction/_keys.py`, `_text.py` | key rules, text | - |\n| `auth.py` | a | - |"
    assert mapped_names(row) == {"redaction/_keys.py", "redaction/_text.py", "auth.py"}
