"""A minimal FastAPI app for the server benchmarks (no otel-distro imports of its own).

The route makes one structured log call through structlog, configured the way a
production app would (JSON lines on stdout); ``/served`` answers how many times the
route ran, the ground truth the benchmark checks the sink's counts against.
"""

from __future__ import annotations

import itertools

import structlog
from fastapi import FastAPI

structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.PrintLoggerFactory(),
    cache_logger_on_first_use=True,
)

app = FastAPI()
logger = structlog.get_logger("benchmarks.server_app")
_served = itertools.count()
_last = 0


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/served")
async def served() -> dict[str, int]:
    return {"served": _last}


@app.get("/items/{item_id}")
async def read_item(item_id: str) -> dict[str, str]:
    global _last
    _last = next(_served) + 1
    logger.info("item_read", item_id=item_id, source="catalog")
    return {"id": item_id, "name": "example"}
