"""Messaging observability: aio-pika tracing and a Server-Sent Events broker with flow metrics.

:class:`SSEBroker` fans messages (published in-process or consumed from an
aio-pika queue) out to SSE subscribers, each behind its own bounded queue, so a
slow client never makes the publisher wait.  It counts every message
(``otel_distro.sse.messages``: consumed, forwarded, dropped), open subscribers,
queue depth, backpressure episodes and connection lifetimes, and logs subscriber
lifecycle records correlated with each stream's request trace.

:class:`AioPikaInstrumentor` traces aio-pika publishes and consumes; the distro
loads it in place of the contrib instrumentor.
"""

from __future__ import annotations

from otel_distro.messaging._aio_pika import AioPikaInstrumentor
from otel_distro.messaging._broker import SSEBroker
from otel_distro.messaging._response import SSEStream
from otel_distro.messaging._sse import encode_event

__all__ = ["AioPikaInstrumentor", "SSEBroker", "SSEStream", "encode_event"]
