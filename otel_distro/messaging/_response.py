"""``SSEBroker.response()``: a Starlette ``Response`` when Starlette is installed, else ASGI."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from otel_distro._asgi_types import Receive, Send
from otel_distro.messaging._stream import SSE_HEADERS, serve

if TYPE_CHECKING:
    from otel_distro.messaging._broker import SSEBroker

__all__ = ["SSEStream", "make_response", "stream_headers"]


def stream_headers(extra: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    headers = list(SSE_HEADERS)
    reserved = {name for name, _ in SSE_HEADERS}
    for name, value in (extra or {}).items():
        key = name.lower().encode("latin-1", "replace")
        if key in reserved or b"\r" in key or b"\n" in key:
            continue
        headers.append(
            (key, value.replace("\r", "").replace("\n", "").encode("latin-1", "replace"))
        )
    return headers


class SSEStream:
    """A plain ASGI app streaming one subscriber of a broker (any ASGI server)."""

    def __init__(self, broker: SSEBroker, headers: Mapping[str, str] | None = None) -> None:
        self.broker = broker
        self.raw_headers = stream_headers(headers)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        await serve(self.broker, scope, receive, send, self.raw_headers)


def make_response(broker: SSEBroker, headers: Mapping[str, str] | None) -> Any:
    """The response object ``SSEBroker.response()`` returns."""
    try:
        from otel_distro.messaging._starlette import StarletteSSEResponse
    except ImportError:
        return SSEStream(broker, headers)
    return StarletteSSEResponse(broker, headers)
