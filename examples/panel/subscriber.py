"""A Server-Sent Events subscriber for the demo: reads ``GET /events`` on a thread."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

__all__ = ["Subscriber"]


class Subscriber:
    """Holds one SSE stream open and keeps every event's ``(name, data)``.

    ``status`` and ``trace_id`` are the stream response's (``None`` until it started).
    """

    def __init__(self, url: str, headers: dict[str, str], connect_timeout: float = 15.0) -> None:
        self.events: list[tuple[str, Any]] = []
        self.status: int | None = None
        self.trace_id = ""
        self.error: str | None = None
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()
        self._started.wait(connect_timeout)

    def _run(self, url: str, headers: dict[str, str]) -> None:
        buffer = b""
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                self.status = response.status_code
                self.trace_id = str(response.headers.get("x-request-id", ""))
                self._started.set()
                for chunk in response.iter_raw():  # keep-alive comments wake it when idle
                    buffer += chunk
                    *frames, buffer = buffer.split(b"\n\n")
                    for frame in frames:
                        self._keep(frame)
                    if self._stop.is_set():
                        return
        except httpx.HTTPError as exc:
            self.error = type(exc).__name__
        finally:
            self._started.set()

    def _keep(self, frame: bytes) -> None:
        fields: dict[str, str] = {}
        for line in frame.decode(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name:  # a line starting with ':' is a comment (keep-alive)
                fields[name] = value.removeprefix(" ")
        if "data" not in fields:
            return
        try:
            data: Any = json.loads(fields["data"])
        except ValueError:
            data = fields["data"]
        self.events.append((fields.get("event", "message"), data))

    def wait_for(self, event: str, timeout: float) -> Any | None:
        """The data of the first ``event`` received within ``timeout`` seconds, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, data in list(self.events):
                if name == event:
                    return data
            if not self._thread.is_alive():
                return None
            time.sleep(0.05)
        return None

    def close(self) -> None:
        """Stop reading (the thread ends at the next chunk or keep-alive)."""
        self._stop.set()
        self._thread.join(5)
