"""The SSE response under Starlette routing and as a plain ASGI app."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otel_distro.messaging import SSEStream
from tests.messaging.conftest import Flow


async def _stream_then_close(app: object, broker: object, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        request = asyncio.ensure_future(client.get(path))
        for _ in range(1000):
            if broker.subscriber_count:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0)
        broker.publish({"site_id": 1}, event="site")  # type: ignore[attr-defined]
        broker.close()  # type: ignore[attr-defined]
        return await request


async def test_a_starlette_endpoint_returns_the_response(flow: Flow) -> None:
    """response() is a Starlette Response: a route returns it and the client reads events."""
    broker = flow.broker()

    async def events(request: Request) -> Response:
        response = broker.response(request, headers={"X-Stream": "sites"})
        assert isinstance(response, Response)
        return response  # type: ignore[no-any-return]

    app = Starlette(routes=[Route("/events", events)])
    response = await _stream_then_close(app, broker, "/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-stream"] == "sites"
    assert response.content == b'event: site\ndata: {"site_id":1}\n\n'


async def test_a_plain_asgi_app_serves_the_stream(flow: Flow) -> None:
    """SSEStream needs no framework: any ASGI server can run it."""
    broker = flow.broker()
    response = await _stream_then_close(SSEStream(broker), broker, "/")
    assert response.content == b'event: site\ndata: {"site_id":1}\n\n'


async def test_extra_headers_cannot_replace_the_stream_headers(flow: Flow) -> None:
    """A caller's Content-Type or a header with a line break is ignored."""
    broker = flow.broker()
    stream = SSEStream(broker, {"Content-Type": "text/html", "X-Bad\r\nSet-Cookie": "a"})
    names = [name for name, _ in stream.raw_headers]
    assert names.count(b"content-type") == 1
    assert dict(stream.raw_headers)[b"content-type"].startswith(b"text/event-stream")
    assert all(b"\n" not in name for name in names)
