"""A stand-in third-party API, run with uvicorn in a subprocess by the tests.

``/echo`` answers with what it received (a ``X-Echo-Set-Cookie`` request header
comes back as ``Set-Cookie``); ``/status/{code}`` answers that status (with the
``retry_after`` query value as ``Retry-After``); ``/flaky/{key}`` fails ``fail``
times per key before answering 200; ``/stream`` streams ``chunks`` lines;
``/slow`` waits ``seconds`` before answering.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

_seen: Counter[str] = Counter()


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def echo(request: Request) -> Response:
    body = (await request.body()).decode("utf-8", "replace")
    headers = {}
    cookie = request.headers.get("x-echo-set-cookie")
    if cookie:
        headers["set-cookie"] = cookie
    payload = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": dict(request.headers),
        "body": body,
    }
    return JSONResponse(payload, headers=headers)


def _retry_after(request: Request) -> dict[str, str]:
    value = request.query_params.get("retry_after")
    return {"retry-after": value} if value is not None else {}


async def status(request: Request) -> Response:
    code = int(request.path_params["code"])
    return PlainTextResponse(f"status {code}", status_code=code, headers=_retry_after(request))


async def flaky(request: Request) -> Response:
    key = request.path_params["key"]
    _seen[key] += 1
    fail = int(request.query_params.get("fail", "1"))
    if _seen[key] <= fail:
        code = int(request.query_params.get("code", "503"))
        return PlainTextResponse("try later", status_code=code, headers=_retry_after(request))
    return JSONResponse({"attempts": _seen[key]})


async def seen(request: Request) -> Response:
    return JSONResponse({"requests": _seen[request.path_params["key"]]})


async def stream(request: Request) -> Response:
    chunks = int(request.query_params.get("chunks", "3"))

    async def lines() -> AsyncIterator[bytes]:
        for index in range(chunks):
            yield f"line {index}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("seconds", "1")))
    return PlainTextResponse("late")


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/echo", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/status/{code:int}", status, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/flaky/{key}", flaky, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/seen/{key}", seen),
        Route("/stream", stream),
        Route("/slow", slow),
    ]
)
