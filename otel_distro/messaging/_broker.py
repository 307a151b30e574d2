"""The SSE broker: fan-out from publishers (or an aio-pika queue) to bounded subscribers."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Link, TracerProvider

from otel_distro._asgi_types import Receive, Send
from otel_distro._report import guarded, internal_error
from otel_distro.messaging._connection import watch_connection
from otel_distro.messaging._metrics import REASON, STREAM, flow_instruments, stream_label
from otel_distro.messaging._shutdown import watch
from otel_distro.messaging._sse import encode_event
from otel_distro.messaging._stream import serve
from otel_distro.messaging._subscriber import SERVER_SHUTDOWN, SLOW_SUBSCRIBER, Subscriber

__all__ = ["SSEBroker"]

#: Links from one forward span to the subscribers' request spans.
MAX_LINKS = 32
#: After ``close()``, how long a stream may take to flush before its task is cancelled.
CLOSE_GRACE_SECONDS = 5.0
EVENT_BACKPRESSURE = "sse_backpressure"


def _emit(level: str, event: str, fields: Mapping[str, object]) -> None:
    from otel_distro.logging import get_logger

    getattr(get_logger("otel_distro.messaging"), level)(event, **fields)


def _seconds(value: object, least: float, strict: bool) -> bool:
    """Whether *value* is a finite number of seconds above *least* (or at it, not strict)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    return value > least if strict else value >= least


def _check_arguments(
    name: object,
    queue_size: object,
    keepalive: object,
    slow_subscriber: object,
    slow_subscriber_seconds: object,
) -> None:
    """A ``ValueError`` naming the first bad argument (the app's own call)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name={name!r}: expected a non-empty stream name")
    if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
        raise ValueError(f"queue_size={queue_size!r}: expected an integer of at least 1")
    if keepalive is not None and not _seconds(keepalive, 0.0, strict=True):
        raise ValueError(f"keepalive={keepalive!r}: expected a number of seconds > 0")
    if slow_subscriber not in (None, "drop", "disconnect"):
        raise ValueError(f"slow_subscriber={slow_subscriber!r}: expected 'drop' or 'disconnect'")
    late = slow_subscriber_seconds
    if late is not None and not _seconds(late, 0.0, strict=False):
        raise ValueError(f"slow_subscriber_seconds={late!r}: expected a number of seconds >= 0")


class SSEBroker:
    """One Server-Sent Events stream, fanned out to any number of subscribers.

    ``publish()`` never waits: each subscriber has its own queue of
    ``queue_size`` frames, and a subscriber whose queue is full misses the
    message (counted as ``dropped``) while the others get it.  ``response()``
    (or the broker itself, as an ASGI app) serves one subscriber.
    """

    def __init__(
        self,
        name: str,
        queue_size: int = 100,
        *,
        keepalive: float | None = None,
        slow_subscriber: str | None = None,
        slow_subscriber_seconds: float | None = None,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        _check_arguments(name, queue_size, keepalive, slow_subscriber, slow_subscriber_seconds)
        from otel_distro import __version__
        from otel_distro.config import get_settings

        settings = get_settings()
        self.name = name
        self.queue_size = queue_size
        self.keepalive: float = settings.sse_keepalive_seconds if keepalive is None else keepalive
        self.slow_subscriber: str = slow_subscriber or settings.sse_slow_subscriber
        self.slow_subscriber_seconds: float = (
            settings.sse_slow_subscriber_seconds
            if slow_subscriber_seconds is None
            else slow_subscriber_seconds
        )
        self._label = stream_label(name)
        self._stream = {STREAM: self._label}
        self._instruments = flow_instruments(meter_provider)
        self._totals = self._instruments.totals(self._label)
        self._tracer = trace.get_tracer("otel_distro.messaging", __version__, tracer_provider)
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()
        self._consumers: list[tuple[Any, str]] = []

    def __repr__(self) -> str:
        return f"SSEBroker({self._label!r}, queue_size={self.queue_size})"

    @property
    def subscriber_count(self) -> int:
        """Subscribers connected now."""
        return len(self._subscribers)

    # publishing -------------------------------------------------------------------

    def publish(self, data: object, event: str | None = None, id: object = None) -> int:
        """Offer one message to every subscriber without waiting; how many queued it.

        ``str`` and ``bytes`` are sent as text, anything else as JSON.  Safe to
        call from any thread.
        """
        frame = self._encode(data, event, id)
        subscribers = self._subscribers
        totals = self._totals
        if not subscribers:
            with totals.lock:
                totals.consumed += 1
            return 0
        span = self._forward_span(subscribers)
        forwarded = 0
        record_depth = self._instruments.queue_depth.record
        attributes = self._stream
        for subscriber in subscribers:
            record_depth(len(subscriber.queue), attributes)
            if subscriber.offer(frame):
                forwarded += 1
            elif not subscriber.closing:
                self._on_full(subscriber)
        dropped = len(subscribers) - forwarded
        with totals.lock:
            totals.consumed += 1
            totals.forwarded += forwarded
            totals.dropped += dropped
        if span is not None:
            span.set_attribute("otel_distro.sse.forwarded", forwarded)
            span.set_attribute("otel_distro.sse.dropped", dropped)
            span.end()
        return forwarded

    def _encode(self, data: object, event: str | None, id: object) -> bytes:
        try:
            return encode_event(data, event, id)
        except (TypeError, ValueError):  # e.g. a circular structure: sent as its text
            return encode_event(str(data), event, id)

    def _forward_span(self, subscribers: tuple[Subscriber, ...]) -> Any:
        """A span for this fan-out when a trace is active (links to subscriber streams)."""
        if not trace.get_current_span().is_recording():
            return None
        try:
            links = [
                Link(s.span.get_span_context())
                for s in subscribers[:MAX_LINKS]
                if s.span.get_span_context().is_valid
            ]
            return self._tracer.start_span(
                f"sse forward {self._label}",
                links=links,
                attributes={STREAM: self._label, "otel_distro.sse.subscribers": len(subscribers)},
            )
        except Exception:
            internal_error("messaging.forward_span")
            return None

    # backpressure -------------------------------------------------------------------

    def _on_full(self, subscriber: Subscriber) -> None:
        with guarded("messaging.backpressure"):
            if subscriber.start_episode():
                self._instruments.backpressure.add(1, self._stream)
                self._say_backpressure(subscriber)
                if self.slow_subscriber == "disconnect":
                    episode = subscriber.episodes
                    delay = self.slow_subscriber_seconds
                    subscriber.on_loop(
                        lambda: subscriber.loop.call_later(
                            delay, self._disconnect_if_slow, subscriber, episode
                        )
                    )
            elif (
                self.slow_subscriber == "disconnect"
                and subscriber.episode_seconds() >= self.slow_subscriber_seconds
            ):
                self._disconnect_if_slow(subscriber, subscriber.episodes)

    def _disconnect_if_slow(self, subscriber: Subscriber, episode: int) -> None:
        if subscriber.episodes == episode and subscriber.episode_start is not None:
            subscriber.close(SLOW_SUBSCRIBER, cancel_after=0.0)

    def _say_backpressure(self, subscriber: Subscriber) -> None:
        fields = {
            "stream": self._label,
            "subscriber": subscriber.id,
            "queue_size": self.queue_size,
            "policy": self.slow_subscriber,
        }
        subscriber.span.add_event(
            EVENT_BACKPRESSURE,
            {STREAM: self._label, "otel_distro.sse.queue_size": self.queue_size},
        )
        token = otel_context.attach(subscriber.context)
        try:
            _emit("warning", EVENT_BACKPRESSURE, fields)
        finally:
            otel_context.detach(token)

    # subscribers --------------------------------------------------------------------

    def _open(self) -> Subscriber:
        subscriber = Subscriber(self.queue_size, asyncio.get_running_loop())
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
        with self._totals.lock:
            self._totals.subscribers += 1
        with guarded("messaging.open"):
            watch(self)
            _emit(
                "info",
                "sse_subscriber_opened",
                {"stream": self._label, "subscriber": subscriber.id},
            )
        return subscriber

    def _close(self, subscriber: Subscriber, reason: str, error: str | None = None) -> None:
        """Release *subscriber*; count and log why (*error*: the exception type, if any)."""
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)
        with self._totals.lock:
            self._totals.subscribers -= 1
        subscriber.close(reason)
        subscriber.queue.clear()
        subscriber.task = None
        with guarded("messaging.close"):
            duration = time.monotonic() - subscriber.opened
            attributes = {STREAM: self._label, REASON: reason}
            self._instruments.connections.add(1, attributes)
            self._instruments.duration.record(duration, attributes)
            fields = {
                "stream": self._label,
                "subscriber": subscriber.id,
                "reason": reason,
                "duration_s": round(duration, 3),
                "forwarded": subscriber.forwarded,
                "sent": subscriber.sent,
                "dropped": subscriber.dropped,
                "backpressure_episodes": subscriber.episodes,
            }
            if error is not None:
                fields["error.type"] = error
            _emit("info" if reason != "error" else "warning", "sse_subscriber_closed", fields)

    # serving ------------------------------------------------------------------------

    def response(self, request: Any = None, *, headers: Mapping[str, str] | None = None) -> Any:
        """A ``text/event-stream`` response serving one subscriber.

        A Starlette ``Response`` when Starlette is installed (return it from a
        FastAPI or Starlette endpoint), else a plain ASGI app.
        """
        from otel_distro.messaging._response import make_response

        return make_response(self, headers)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        """The broker as an ASGI app: each HTTP request is one subscriber."""
        if scope.get("type") == "lifespan":
            while True:
                message = await receive()
                if message.get("type") == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message.get("type") == "lifespan.shutdown":
                    await self.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await serve(self, scope, receive, send)

    # aio-pika -----------------------------------------------------------------------

    async def consume_from(self, queue: Any, *, event: str | None = None) -> str:
        """Forward every message of an aio-pika queue to the subscribers; the consumer tag.

        Returns once consuming has started.  Each message is published with the
        message's ``type`` (or *event*) as the SSE event and its ``message_id`` as
        the SSE id, then acknowledged.
        """

        async def forward(message: Any) -> None:
            async with message.process(ignore_processed=True):
                self.publish(
                    message.body, event=event or message.type or None, id=message.message_id
                )

        tag = str(await queue.consume(forward))
        self._consumers.append((queue, tag))
        with guarded("messaging.watch_connection"):
            connection = getattr(getattr(queue, "channel", None), "_connection", None)
            watch_connection(connection, self._label, self._instruments.connection_events)
        _emit("info", "sse_consumer_started", {"stream": self._label, "queue": str(queue.name)})
        return tag

    async def aclose(self) -> None:
        """Stop consuming and end every subscriber (reason ``server_shutdown``)."""
        consumers, self._consumers = self._consumers, []
        for queue, tag in consumers:
            try:
                await queue.cancel(tag)
            except Exception as exc:  # a closed channel has no consumer left to cancel
                _emit("info", "sse_consumer_cancel_failed", {"error": type(exc).__name__})
        self.close()

    def close(self) -> None:
        """End every subscriber's stream (reason ``server_shutdown``) without waiting.

        Queued messages are still sent; a stream whose client is not reading is
        cancelled after a grace of a few seconds.  Safe from any thread and from a
        signal handler.
        """
        for subscriber in self._subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(
                    subscriber.close, SERVER_SHUTDOWN, CLOSE_GRACE_SECONDS
                )
            except RuntimeError:  # its loop is closed: nothing left to end
                continue
