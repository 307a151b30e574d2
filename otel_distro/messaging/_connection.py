"""RabbitMQ connection lifecycle for consumers feeding a broker: closes and reconnects.

``SSEBroker.consume_from`` watches the queue's connection once: every close and
every reconnect of a robust connection is counted on
``otel_distro.amqp.connection.events`` and logged (``amqp_connection_closed``,
``amqp_connection_reconnected``).  A close the application asked for
(``connection.close()``, leaving ``async with``) is an ``info`` record without an
error; a lost connection is a ``warning`` carrying the error type, never its message.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from otel_distro._report import guarded

__all__ = ["EVENT", "watch_connection"]

EVENT = "otel_distro.amqp.connection.event"
_watched: weakref.WeakSet[Any] = weakref.WeakSet()


def _emit(level: str, event: str, fields: dict[str, object]) -> None:
    from otel_distro.logging import get_logger

    getattr(get_logger("otel_distro.messaging"), level)(event, **fields)


def _lost(sender: Any, error: BaseException | None) -> str | None:
    """The error type of a connection that was lost; None for a close the app asked for.

    aio-pika hands a normal close ``CancelledError`` (robust connections) or
    ``ConnectionClosed`` (plain ones), and sets ``close_called`` on the connection.
    """
    if error is None or isinstance(error, asyncio.CancelledError):
        return None
    if getattr(sender, "close_called", False) is True:
        return None
    return type(error).__name__


def watch_connection(connection: Any, stream: str, counter: Any) -> None:
    """Count (on *counter*) and log the closes and reconnects of an aio-pika connection."""
    if connection is None or connection in _watched:
        return

    def closed(sender: Any, error: BaseException | None = None) -> None:
        with guarded("messaging.connection_closed"):
            counter.add(1, {EVENT: "closed"})
            kind = _lost(sender, error)
            if kind is None:
                _emit("info", "amqp_connection_closed", {"stream": stream})
            else:
                _emit("warning", "amqp_connection_closed", {"stream": stream, "error": kind})

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
