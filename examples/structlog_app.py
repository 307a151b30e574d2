"""An app that configures structlog itself after launch (its own processors and renderer).

Used to check that the distro keeps trace correlation and OTel emission, or
says clearly what to add, when an application calls ``structlog.configure()``.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI

structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.JSONRenderer(),
    ]
)

log = structlog.get_logger("reconfigured")
app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/work")
async def work() -> dict[str, str]:
    log.info("work_done", items=3)
    return {"done": "yes"}
