"""Serving one subscriber over ASGI: a sending task and a disconnect watcher.

The sending task drains the subscriber's queue into ``send`` (where a client
that stops reading makes the server wait) and writes a keep-alive comment when
idle; the watcher waits for ``http.disconnect`` on ``receive``.  Whichever ends
first ends the stream, and the other task is cancelled, so nothing outlives the
connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from otel_distro._asgi_types import Receive, Scope, Send
from otel_distro.messaging._sse import KEEPALIVE
from otel_distro.messaging._subscriber import CLIENT_GONE, ERROR, SERVER_SHUTDOWN, Subscriber

if TYPE_CHECKING:
    from otel_distro.messaging._broker import SSEBroker

__all__ = ["SSE_HEADERS", "serve"]

SSE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


async def _pump(subscriber: Subscriber, send: Send, keepalive: float) -> None:
    """Send queued frames until the subscriber is closed and its queue is empty."""
    while True:
        taken = subscriber.take()
        if taken is not None:
            chunk, count = taken
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            subscriber.sent += count
            continue
        if subscriber.closing:
            return
        subscriber.wake.clear()
        if subscriber.queue or subscriber.closing:
            continue
        try:
            await asyncio.wait_for(subscriber.wake.wait(), keepalive)
        except asyncio.TimeoutError:
            await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})


async def _watch(receive: Receive) -> None:
    """Return when the client has gone (``http.disconnect``)."""
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            return


def _outcome(pump: asyncio.Future[Any], watcher: asyncio.Future[Any], sub: Subscriber) -> str:
    if watcher.done() and not watcher.cancelled():
        return ERROR if watcher.exception() is not None else CLIENT_GONE
    if pump.cancelled():
        return sub.close_reason or SERVER_SHUTDOWN
    error = pump.exception()
    if error is None:
        return sub.close_reason or SERVER_SHUTDOWN
    return CLIENT_GONE if isinstance(error, OSError) else ERROR


def _error_type(*tasks: asyncio.Future[Any] | None) -> str | None:
    """The exception type that ended one of *tasks*, if one did."""
    for task in tasks:
        if task is not None and task.done() and not task.cancelled():
            error = task.exception()
            if error is not None:
                return type(error).__name__
    return None


async def serve(
    broker: SSEBroker,
    scope: Scope,
    receive: Receive,
    send: Send,
    headers: Sequence[tuple[bytes, bytes]] = SSE_HEADERS,
    status: int = 200,
) -> None:
    """Stream *broker*'s messages to one client until it goes or the broker closes."""
    if scope.get("type") != "http":
        raise ValueError("an SSE stream serves HTTP requests only")
    subscriber = broker._open()
    reason = ERROR
    error: str | None = None
    pump: asyncio.Future[Any] | None = None
    watcher: asyncio.Future[Any] | None = None
    try:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        pump = asyncio.ensure_future(_pump(subscriber, send, broker.keepalive))
        subscriber.task = pump
        watcher = asyncio.ensure_future(_watch(receive))
        await asyncio.wait((pump, watcher), return_when=asyncio.FIRST_COMPLETED)
        reason = _outcome(pump, watcher, subscriber)
        if reason == ERROR:
            error = _error_type(pump, watcher)
        if pump.done() and not pump.cancelled() and pump.exception() is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except asyncio.CancelledError:
        reason = subscriber.close_reason or SERVER_SHUTDOWN
        raise
    except OSError:
        reason = CLIENT_GONE
    except Exception as exc:  # the server's own error: said on the close record, then raised
        error = type(exc).__name__
        raise
    finally:
        for task in (pump, watcher):
            if task is not None and not task.done():
                task.cancel()
        broker._close(subscriber, reason, error)
