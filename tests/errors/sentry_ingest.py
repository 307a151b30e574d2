"""A local HTTP server posing as a Sentry ingest endpoint: it keeps every envelope item.

The real ``sentry-sdk`` transport posts envelopes to ``/api/<project>/envelope/``
of the DSN's host; :attr:`SentryIngest.dsn` points a DSN at this server (loopback).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["SentryIngest", "sentry_ingest"]


class SentryIngest:
    """Envelope items received so far: ``(headers, payload)`` pairs, payload parsed as JSON."""

    def __init__(self, port: int) -> None:
        self.dsn = f"http://publickey@127.0.0.1:{port}/1"
        self.raw: list[bytes] = []
        self.items: list[tuple[dict[str, Any], Any]] = []
        self._lock = threading.Lock()

    def add(self, body: bytes) -> None:
        """Parse one envelope: a header line, then items (a header line and a payload)."""
        with self._lock:
            self.raw.append(body)
            position = body.find(b"\n") + 1  # after the envelope header
            while 0 < position < len(body):
                end = body.find(b"\n", position)
                end = len(body) if end < 0 else end
                line = body[position:end].strip()
                position = end + 1
                if not line:
                    continue
                header = json.loads(line)
                length = header.get("length")
                if length is None:
                    stop = body.find(b"\n", position)
                    stop = len(body) if stop < 0 else stop
                else:
                    stop = position + int(length)
                payload = body[position:stop]
                position = stop + 1
                try:
                    parsed: Any = json.loads(payload)
                except ValueError:
                    parsed = payload
                self.items.append((header, parsed))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of the items of one type (``event``, ``transaction``, ...)."""
        with self._lock:
            return [payload for header, payload in self.items if header.get("type") == kind]

    def text(self) -> str:
        """Everything received, decoded (to look for planted secrets)."""
        with self._lock:
            return "\n".join(body.decode("utf-8", "replace") for body in self.raw)

    def wait_for(
        self, found: Callable[[], list[Any]], timeout: float = 20.0, message: str = ""
    ) -> list[Any]:
        """Poll ``found`` until it returns a non-empty list."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = found()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {message or 'Sentry envelopes'}")


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return bytes(brotli.decompress(body))
    return body


@contextmanager
def sentry_ingest() -> Iterator[SentryIngest]:
    """A running ingest server on 127.0.0.1 (a free port) for the ``with`` block."""
    holder: dict[str, SentryIngest] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = _decode(self.rfile.read(length), self.headers.get("Content-Encoding", ""))
            if self.path.endswith("/envelope/"):
                holder["ingest"].add(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["ingest"] = SentryIngest(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["ingest"]
    finally:
        server.shutdown()
        server.server_close()
