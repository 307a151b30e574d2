"""Two roles of one app for the signed-baggage launches (``test_signed_baggage_launch.py``).

``GET /call?tenant=...`` (service A) sets the tenant and calls ``SIGNED_DOWNSTREAM_URL``
``/whoami`` with httpx; ``GET /whoami`` (service B) logs a line and answers with the
tenant it sees and the trace-context/baggage headers it received.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from fastapi import FastAPI, Request

from otel_distro import current_tenant, get_logger, set_tenant

app = FastAPI(title="signed")
log = get_logger("signed")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/call")
async def call(tenant: str, user: str = "u-1") -> Any:
    set_tenant(tenant_id=tenant, user_id=user)
    log.info("calling downstream")
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.get(f"{os.environ['SIGNED_DOWNSTREAM_URL']}/whoami")
    return response.json()


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, Any]:
    tenant, user = current_tenant()
    log.info("whoami served")
    return {
        "tenant": tenant,
        "user": user,
        "baggage": request.headers.get("baggage"),
        "traceparent": request.headers.get("traceparent"),
    }
