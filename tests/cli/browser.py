"""Headless Chromium (Debian's ``chromium``) for the HTML waterfall's tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.support import require

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    require(binary is not None, "chromium is not installed (apt-get install chromium)")
    assert binary is not None
    return binary


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [_chromium(), *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def chromium_dom(page: Path) -> str:
    """The page's DOM after Chromium rendered it."""
    done = _run("--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@dataclass
class Screenshot:
    path: Path
    distinct_colours: int


def _png_colours(data: bytes) -> int:
    """Distinct RGB(A) pixel values of an 8-bit, non-interlaced PNG (Chromium's output)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, width, colour_type, idat = 8, 0, 0, b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, colour_type = int.from_bytes(body[:4], "big"), body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = {2: 3, 6: 4}[colour_type]
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    # Filter bytes make exact decoding longer than this test needs: sampling the
    # unfiltered-looking rows still separates a blank page from a drawn one.
    seen = {
        raw[row + 1 + i : row + 1 + i + channels]
        for row in range(0, len(raw), stride * 7)
        for i in range(0, width * channels, channels * 5)
    }
    return len(seen)


def chromium_screenshot(page: Path, out: Path) -> Screenshot:
    """A 1200x800 screenshot of the page."""
    done = _run(f"--screenshot={out}", "--window-size=1200,800", page.as_uri())
    assert out.is_file(), done.stderr[-2000:]
    return Screenshot(out, _png_colours(out.read_bytes()))
