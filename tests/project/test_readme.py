"""The README stays true: its variable table is the settings table, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from otel_distro.config import variables_markdown
from otel_distro.distro import _DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def between(start: str, end: str) -> str:
    match = re.search(rf"{re.escape(start)}\n(.*?)\n{re.escape(end)}", README, re.S)
    assert match, f"README lacks the {start} ... {end} block"
    return match.group(1)


def test_variable_table_matches_the_code() -> None:
    """Every variable the code reads is in the README with its default, and nothing else."""
    assert between("<!-- variables:start -->", "<!-- variables:end -->") == variables_markdown()


def test_standard_defaults_table_matches_the_distro() -> None:
    """The table of OTEL_* defaults the distro sets is what the distro sets."""
    table = between("<!-- otel-defaults:start -->", "<!-- otel-defaults:end -->")
    rows = dict(re.findall(r"^\| `(OTEL_[A-Z_]+)` \| `([^`]*)` \|", table, re.M))
    assert rows == _DEFAULTS


def test_the_two_commands_exist() -> None:
    """`make demo` and `make test` are documented and defined."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.M)


def test_every_picture_the_readme_shows_is_in_the_repository() -> None:
    """The first screen's pictures (the waterfall, the trace in Jaeger's UI) exist as PNGs."""
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert {"docs/waterfall.png", "docs/jaeger-trace.png"} <= set(pictures)
    for picture in pictures:
        assert (ROOT / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture


def test_make_screenshot_is_documented_and_defined() -> None:
    """The command that remakes docs/jaeger-trace.png is a make target the README names."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make screenshot" in README and re.search(r"^screenshot:", makefile, re.M)
    assert "JAEGER_UI_SRC=" in README and "build.sh jaeger-ui" in README
