"""An app whose routes fail with secrets planted in the message, a local variable,
a header and the query (all taken from the request, so each test plants random ones).

* ``/fail``: the app's handler logs the failure (``logger.error(..., exc_info=True)``)
  and re-raises: the exception escapes to uvicorn.
* ``/escape``: the exception escapes with no log call of the app.
* ``/handled``: the exception is logged twice (stdlib, then structlog) and answered 200.
* ``/health``: 200 (the launcher waits for it).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request

from otel_distro import get_logger, set_tenant

TENANT = "t-err"
USER = "u-err"

logger = logging.getLogger("sentry_error_app")
log = get_logger("sentry_error_app")


class ChargeFailed(RuntimeError):
    """Raised by every failing route."""


def _charge(request: Request) -> None:
    set_tenant(tenant_id=TENANT, user_id=USER)
    api_key = request.headers.get("x-api-key", "")
    password = request.query_params.get("password", "")
    raise ChargeFailed(f"charge refused (key of {len(api_key)} chars) password={password}")


app = FastAPI(title="sentry-error-app")


@app.get("/fail")
async def fail(request: Request) -> None:
    try:
        _charge(request)
    except ChargeFailed:
        note = f"password={request.query_params.get('password', '')}"
        logger.error("charge failed: %s", note, exc_info=True)
        raise


@app.get("/escape")
async def escape(request: Request) -> None:
    _charge(request)


@app.get("/handled")
async def handled(request: Request) -> str:
    try:
        _charge(request)
    except ChargeFailed as exc:
        logger.error("charge failed", exc_info=True)
        log.error("charge_failed_again", exc_info=exc)
    return "handled"


@app.get("/health")
async def health() -> str:
    return "ok"
