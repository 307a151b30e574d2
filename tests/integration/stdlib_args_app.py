"""An app whose ``/login`` route logs through a standard-library logger with a mapping
argument holding a secret (``info("... %(password)s", {...})``).

``/health`` answers 200 (the launcher waits for it).  Launched by ``test_logging_launch.py``.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

SECRET = "hunter2-launch-secret"

_log = logging.getLogger("app.auth")


async def _login(request: Request) -> PlainTextResponse:
    _log.info("login %(user)s %(password)s", {"user": "bob", "password": SECRET})
    return PlainTextResponse("ok")


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/login", _login), Route("/health", _health)])
