"""A FastAPI app that configures logging itself: a file handler and an ERROR-level stderr
handler on the root logger (dictConfig), for launches under uvicorn with the distro."""

from __future__ import annotations

import logging
import logging.config

import httpx
from fastapi import FastAPI, Request

logging.config.dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"app": {"format": "APP %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": "app.log", "formatter": "app"},
            "err": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "level": "ERROR",
            },
        },
        "root": {"handlers": ["file", "err"], "level": "WARNING"},
    }
)

app = FastAPI()
log = logging.getLogger("app.views")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/work")
async def work(secret: str, request: Request) -> dict[str, str]:
    log.info("not shown: below the app's WARNING")
    log.warning("login password=%s", secret)
    async with httpx.AsyncClient() as client:
        await client.get(f"{request.base_url}health")
    return {"done": "yes"}
