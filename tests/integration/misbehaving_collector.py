"""Collectors that misbehave on purpose: black-holing connections, answering slowly.

``BlackHole`` accepts TCP connections and never answers; ``SlowCollector`` reads a
request and answers ``200`` only after ``delay`` seconds.  Both listen on a free
port of 127.0.0.1 and stop (closing every connection) on ``__exit__``.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

__all__ = ["BlackHole", "SlowCollector"]


class BlackHole:
    """Accepts connections, reads nothing back, never answers."""

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(128)
        self._connections: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def accepted(self) -> int:
        return len(self._connections)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self._connections.append(connection)
            self._serve(connection)

    def _serve(self, connection: socket.socket) -> None:
        """Keep the connection open and silent."""

    def __enter__(self) -> BlackHole:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._server.close()
        for connection in self._connections:
            connection.close()


class SlowCollector(BlackHole):
    """Answers every request with an empty ``200`` after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self._delay = delay

    def _serve(self, connection: socket.socket) -> None:
        threading.Thread(target=self._answer_late, args=(connection,), daemon=True).start()

    def _answer_late(self, connection: socket.socket) -> None:
        try:
            while True:
                connection.settimeout(None)
                if not connection.recv(65536):
                    return
                if self._stopped.wait(self._delay):
                    return
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
        except OSError:
            return
