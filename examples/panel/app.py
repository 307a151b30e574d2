"""The "panel" demo API: hosting sites per tenant, behind HS256 bearer tokens.

Run it instrumented: ``opentelemetry-instrument uvicorn examples.panel.app:app``.

Environment: ``PANEL_JWT_SECRET`` (token secret, a demo default otherwise) and
``PANEL_UPSTREAM_URL`` (what ``GET /sites/{id}/status`` calls; by default this
same server's ``/upstream/echo-headers``, so the outbound call is real and its
headers can be inspected); ``PANEL_BILLING_URL`` (the third party ``POST
/sites/{id}/charge`` calls through :func:`otel_distro.http.create_external_async_client`;
by default this same server, whose ``/upstream/charges`` stands in for a payment API).
"""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from examples.panel import events
from examples.panel.tokens import DEFAULT_SECRET, SECRET_ENV
from otel_distro import get_logger, set_tenant
from otel_distro.http import create_external_async_client
from otel_distro.security import log_auth_violation, log_tenant_violation

logger = get_logger(__name__)
app = FastAPI(title="panel", lifespan=events.lifespan)
bearer = HTTPBearer(auto_error=False)


# --- auth ----------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    user_id: str
    tenant_id: str


def _verify(credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    secret = os.environ.get(SECRET_ENV, DEFAULT_SECRET)
    try:
        claims = jwt.decode(
            credentials.credentials, secret, algorithms=["HS256"], options={"require": ["exp"]}
        )
        principal = Principal(user_id=str(claims["sub"]), tenant_id=str(claims["team_id"]))
    except (jwt.InvalidTokenError, KeyError):
        logger.warning("auth_failed")
        raise HTTPException(401, "invalid bearer token", {"WWW-Authenticate": "Bearer"}) from None
    set_tenant(tenant_id=principal.tenant_id, user_id=principal.user_id)
    return principal


def principal_sync(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Sync dependency: FastAPI runs it in a worker thread."""
    return _verify(credentials)


async def principal_async(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Async dependency: runs on the event loop."""
    return _verify(credentials)


# --- storage -------------------------------------------------------------------


@dataclass
class Site:
    id: str
    name: str
    domain: str


_sites: dict[str, dict[str, Site]] = {}  # tenant id -> site id -> site
_ids = itertools.count(1)
_lock = threading.Lock()


def _find_site(principal: Principal, site_id: str) -> Site:
    site = _sites.get(principal.tenant_id, {}).get(site_id)
    if site is None:
        owner = next((t for t, sites in _sites.items() if site_id in sites), None)
        if owner is not None:  # another tenant's site: a tenant-boundary violation
            log_tenant_violation(resource_tenant=owner, resource=f"site:{site_id}", http_status=404)
        raise HTTPException(404, "site not found")
    return site


# --- routes ----------------------------------------------------------------------


@app.get("/events")
async def site_events(
    request: Request, principal: Annotated[Principal, Depends(principal_async)]
) -> Any:
    """Server-Sent Events: every site created (see ``examples/panel/events.py``)."""
    return events.broker.response(request)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/sites", status_code=201)
async def create_site(
    principal: Annotated[Principal, Depends(principal_async)],
    name: Annotated[str, Body(min_length=1, max_length=100)],
    domain: Annotated[str, Body(min_length=1, max_length=253)],
) -> dict[str, str]:
    with _lock:
        site = Site(id=f"site-{next(_ids)}", name=name, domain=domain)
        _sites.setdefault(principal.tenant_id, {})[site.id] = site
    logger.info("site_created", site_id=site.id, site_name=site.name)
    await events.site_created(site.id)
    return asdict(site)


@app.get("/sites/{site_id}")
def read_site(
    site_id: str, principal: Annotated[Principal, Depends(principal_sync)]
) -> dict[str, str]:
    site = _find_site(principal, site_id)
    logger.info("site_read", site_id=site.id)
    return asdict(site)


@app.delete("/sites/{site_id}", status_code=204)
async def delete_site(
    site_id: str, request: Request, principal: Annotated[Principal, Depends(principal_async)]
) -> None:
    """Only admins (``role=admin`` in the token) may delete; nobody in the demo is one."""
    site = _find_site(principal, site_id)
    log_auth_violation(
        request=request,
        violation="missing_permission",
        http_status=403,
        detail="User lacks 'sites:delete' permission",
        required="sites:delete",
    )
    raise HTTPException(403, f"not allowed to delete {site.id}")


@app.get("/sites/{site_id}/status")
async def site_status(
    site_id: str, request: Request, principal: Annotated[Principal, Depends(principal_async)]
) -> dict[str, Any]:
    site = _find_site(principal, site_id)
    url = os.environ.get("PANEL_UPSTREAM_URL") or str(request.url_for("echo_headers"))
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.get(httpx.URL(url).copy_merge_params({"site": site.domain}))
    logger.info("site_status_checked", site_id=site.id, upstream_status=response.status_code)
    try:
        upstream: Any = response.json()
    except ValueError:
        upstream = response.text[:1000]
    return {"site_id": site.id, "upstream_status": response.status_code, "upstream": upstream}


@app.post("/sites/{site_id}/charge")
async def charge_site(
    site_id: str, request: Request, principal: Annotated[Principal, Depends(principal_async)]
) -> dict[str, Any]:
    """Bill a site through the external-API client (span, record and metrics per call)."""
    site = _find_site(principal, site_id)
    base_url = os.environ.get("PANEL_BILLING_URL") or str(request.base_url)
    async with create_external_async_client(
        service="billing", base_url=base_url, timeout=10.0, retries=2
    ) as client:
        response = await client.post(
            "/upstream/charges",
            json={"site": site.id, "amount": 1000},
            headers={"X-API-Key": "demo-billing-key-123"},
        )
    return {"site_id": site.id, "billing_status": response.status_code, "charge": response.json()}


@app.post("/upstream/charges")
async def stand_in_charges(payload: Annotated[Any, Body()]) -> dict[str, Any]:
    """Stand-in payment API: accepts any charge."""
    return {"id": f"ch_{next(_charges)}", "status": "succeeded", "amount": payload.get("amount")}


_charges = itertools.count(1)


@app.get("/upstream/echo-headers", name="echo_headers")
async def echo_headers(request: Request) -> dict[str, Any]:
    """Stand-in upstream: answers with the headers it received."""
    return {"headers": dict(request.headers)}


@app.get("/boom")
async def boom(request: Request) -> None:
    """Error path; the message carries the request's query string (redaction tests)."""
    raise RuntimeError(f"boom while handling {request.url.path}?{request.url.query}")


@app.post("/echo-log")
async def echo_log(payload: Annotated[Any, Body()]) -> dict[str, bool]:
    """Log the JSON body: an object's keys become log fields, anything else ``payload``."""
    if isinstance(payload, dict) and all(isinstance(key, str) for key in payload):
        fields = {key: value for key, value in payload.items() if key != "event"}
    else:
        fields = {"payload": payload}
    logger.info("echo_log", **fields)
    return {"logged": True}
