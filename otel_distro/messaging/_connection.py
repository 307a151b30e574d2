"""RabbitMQ connection lifecycle for consumers feeding a broker: closes and reconnects.

``SSEBroker.consume_from`` watches the queue's connection once: every close (a
lost connection carries the error type, never its message) and every reconnect
of a robust connection is counted on ``otel_distro.amqp.connection.events`` and
logged (``amqp_connection_closed``, ``amqp_connection_reconnected``).
"""

from __future__ import annotations

import weakref
from typing import Any

from otel_distro._report import guarded

__all__ = ["EVENT", "watch_connection"]

EVENT = "otel_distro.amqp.connection.event"
_watched: weakref.WeakSet[Any] = weakref.WeakSet()


def _emit(level: str, event: str, fields: dict[str, object]) -> None:
    from otel_distro.logging import get_logger

    getattr(get_logger("otel_distro.messaging"), level)(event, **fields)


def watch_connection(connection: Any, stream: str, counter: Any) -> None:
    """Count (on *counter*) and log the closes and reconnects of an aio-pika connection."""
    if connection is None or connection in _watched:
        return

    def closed(sender: Any, error: BaseException | None = None) -> None:
        with guarded("messaging.connection_closed"):
            counter.add(1, {EVENT: "closed"})
            kind = type(error).__name__ if error is not None else None
            _emit(
                "warning" if kind else "info",
                "amqp_connection_closed",
                {"stream": stream, "error": kind},
            )

    def reconnected(sender: Any) -> None:
        with guarded("messaging.connection_reconnected"):
            counter.add(1, {EVENT: "reconnected"})
            _emit("info", "amqp_connection_reconnected", {"stream": stream})

    close_callbacks = getattr(connection, "close_callbacks", None)
    if close_callbacks is not None:
        close_callbacks.add(closed)
    reconnect_callbacks = getattr(connection, "reconnect_callbacks", None)
    if reconnect_callbacks is not None:
        reconnect_callbacks.add(reconnected)
    _watched.add(connection)
