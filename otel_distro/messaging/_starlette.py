"""The Starlette flavour of the SSE response (FastAPI and Starlette endpoints return it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from otel_distro.messaging._stream import serve

if TYPE_CHECKING:
    from otel_distro.messaging._broker import SSEBroker

__all__ = ["StarletteSSEResponse"]


class StarletteSSEResponse(Response):
    """A ``text/event-stream`` response serving one subscriber of an :class:`SSEBroker`."""

    media_type = "text/event-stream"

    def __init__(self, broker: SSEBroker, headers: Mapping[str, str] | None = None) -> None:
        from otel_distro.messaging._response import stream_headers

        self.broker = broker
        self.status_code = 200
        self.background = None
        self.body = b""
        self.raw_headers = stream_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream: Any = serve
        await stream(self.broker, scope, receive, send, self.raw_headers)
