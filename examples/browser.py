"""Headless Chromium driven over the DevTools protocol: open a page, click, read, screenshot.

Debian's ``chromium`` with ``--remote-debugging-port=0``; the port it chose is read
from ``DevToolsActivePort`` in its throwaway profile.  Only loopback is involved.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import websockets

__all__ = ["BrowserError", "Page"]

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or a page did not do what was waited for."""


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise BrowserError("chromium is not installed (apt-get install chromium)")
    return binary


class Page:
    """One tab of a private headless Chromium (``async with Page(width, height) as page``)."""

    def __init__(self, width: int, height: int, timeout: float = 30.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self._ids = itertools.count(1)
        self._profile = tempfile.TemporaryDirectory(prefix="browser-profile-")
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: Any = None

    async def __aenter__(self) -> Page:
        profile = Path(self._profile.name)
        self._process = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = await self._port(profile / "DevToolsActivePort")
            url = await self._page_socket(port)
            self._socket = await websockets.connect(url, max_size=64 * 1024 * 1024)
            await self.send(
                "Emulation.setDeviceMetricsOverride",
                width=self.width,
                height=self.height,
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._profile.cleanup()

    async def _port(self, active: Path) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BrowserError(f"chromium exited with status {self._process.returncode}")
            try:
                first = active.read_text().splitlines()[0]
                return int(first)
            except (OSError, IndexError, ValueError):
                await asyncio.sleep(0.1)
        raise BrowserError("chromium did not open its DevTools port")

    async def _page_socket(self, port: int) -> str:
        async with httpx.AsyncClient(timeout=5.0) as client:
            targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
        for target in targets:
            if target.get("type") == "page":
                return str(target["webSocketDebuggerUrl"])
        raise BrowserError("chromium has no page to drive")

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events arriving meanwhile are skipped)."""
        number = next(self._ids)
        await self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self._socket.recv(), self.timeout))
            if message.get("id") != number:
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error'].get('message')}")
            return dict(message.get("result") or {})

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    async def open(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def wait_for(self, expression: str, what: str) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.2)
        raise BrowserError(f"the page did not show {what} within {self.timeout:.0f}s")

    async def screenshot(self, out: Path) -> None:
        result = await self.send("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(result["data"]))
