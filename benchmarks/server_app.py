"""A minimal FastAPI app for the server benchmark (no otel-distro imports of its own)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items/{item_id}")
async def read_item(item_id: str) -> dict[str, str]:
    return {"id": item_id, "name": "example"}
