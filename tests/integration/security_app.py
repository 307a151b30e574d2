"""A FastAPI app that answers 401/403 and reports security events (security launch tests).

``/admin`` logs ``missing_permission`` and answers 403, echoing ``secret`` (a query
parameter) and the ``X-API-Key`` header into the detail and extra fields, so the tests
can check that nothing planted survives.  ``/silent-403`` and ``/silent-401`` answer
without an explicit event (automatic detection); ``/tenant/{site}`` a tenant violation;
``/revoked`` an app-reported token anomaly; ``/public`` answers 200 whatever the token.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from otel_distro import set_tenant
from otel_distro.security import log_auth_violation, log_tenant_violation, log_token_anomaly

app = FastAPI(title="security")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/admin")
async def admin(request: Request, secret: str = "") -> None:
    planted = request.headers.get("x-api-key", "")
    set_tenant(tenant_id="t-caller", user_id="u-caller")
    log_auth_violation(
        request=request,
        violation="missing_permission",
        http_status=403,
        detail=f"User lacks 'sites:create' permission (password={secret})",
        required="sites:create",
        api_key=planted,
        note=f"retry with token={secret}",
    )
    raise HTTPException(403, "forbidden")


@app.get("/admin-sync")
def admin_sync(request: Request) -> None:
    """A sync endpoint (run in a threadpool) that logs, then answers 403."""
    log_auth_violation(violation="missing_role", http_status=403, detail="admin role required")
    raise HTTPException(403, "forbidden")


@app.get("/silent-403")
async def silent_403() -> JSONResponse:
    return JSONResponse({"detail": "forbidden"}, status_code=403)


@app.get("/silent-401")
async def silent_401() -> JSONResponse:
    return JSONResponse({"detail": "unauthorized"}, status_code=401)


@app.get("/tenant/{site}")
async def tenant(site: str) -> JSONResponse:
    set_tenant(tenant_id="t-caller", user_id="u-caller")
    log_tenant_violation(resource_tenant="t-9", resource=f"site:{site}")
    return JSONResponse({"detail": "not found"}, status_code=404)


@app.get("/revoked")
async def revoked(request: Request) -> JSONResponse:
    log_token_anomaly("revoked_reuse", request=request, detail="token reused after logout")
    return JSONResponse({"detail": "unauthorized"}, status_code=401)


@app.get("/login-failed")
async def login_failed(request: Request, user: str = "") -> JSONResponse:
    log_auth_violation(request, violation="bad_password", http_status=401, user_id=user)
    return JSONResponse({"detail": "unauthorized"}, status_code=401)


@app.get("/public")
async def public() -> dict[str, bool]:
    return {"ok": True}
