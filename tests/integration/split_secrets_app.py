"""An app whose ``/split`` route logs a private key split over several consecutive
records of one standard-library logger, then a ``password:`` record followed by a
record holding the value, with another logger's records in between.

The pieces come from ``SPLIT_PIECES`` (a JSON list the test plants at random), the
value from ``SPLIT_VALUE``, the other logger's text from ``SPLIT_OTHER``.  ``/health``
answers 200 (the launcher waits for it).  Launched by ``test_split_secrets_launch.py``.
"""

from __future__ import annotations

import json
import logging
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

_keys = logging.getLogger("app.keys")
_other = logging.getLogger("app.other")


async def _split(request: Request) -> PlainTextResponse:
    pieces = json.loads(os.environ["SPLIT_PIECES"])
    other = os.environ["SPLIT_OTHER"]
    for piece in pieces:
        _keys.warning(piece)
        _other.warning("%s order placed", other)
    _keys.warning("connecting, db password:")
    _other.warning("%s order placed", other)
    _keys.warning("%s (from the vault)", os.environ["SPLIT_VALUE"])
    _keys.warning("done")
    return PlainTextResponse("ok")


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/split", _split), Route("/health", _health)])
