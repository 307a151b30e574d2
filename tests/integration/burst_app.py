"""An app whose ``/burst?n=`` logs n structlog records in one request, and whose
``/hostile`` logs what once cost a whole export batch or leaked: a JSON body with an
escaped lone surrogate next to a password, and a logger named after a credentialed URL.

``/health`` answers 200 (the launcher waits for it).  Launched by
``test_logging_burst_launch.py``.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from otel_distro.logging import get_logger

SECRET = "burst-app-SECRET-q7w8e9"

_log = get_logger("app.burst")


async def _burst(request: Request) -> PlainTextResponse:
    for seq in range(int(request.query_params["n"])):
        _log.info("burst", seq=seq)
    return PlainTextResponse("ok")


async def _hostile(request: Request) -> PlainTextResponse:
    _log.info('{"note": "\\ud800", "password": "' + SECRET + '"}')
    logging.getLogger(f"client.https://svc:{SECRET}@db.example").info("connected")
    _log.info("after_hostile")
    return PlainTextResponse("ok")


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[Route("/burst", _burst), Route("/hostile", _hostile), Route("/health", _health)]
)
