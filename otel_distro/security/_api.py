"""The functions an app calls: auth violations, tenant-boundary violations, token anomalies."""

from __future__ import annotations

from otel_distro.context import sanitize_identifier
from otel_distro.security._events import record_violation

__all__ = ["log_auth_violation", "log_tenant_violation", "log_token_anomaly"]


def log_auth_violation(
    request: object = None,
    violation: str = "unauthorized",
    http_status: int | None = None,
    detail: str | None = None,
    *,
    user_id: object = None,
    **extra: object,
) -> None:
    """Record an authentication or authorization failure as one security event.

    ``request`` is a Starlette/FastAPI ``Request``, an ASGI scope, or omitted (the
    current request is used).  ``user_id`` names the user when the request carries
    no authenticated one (a failed login); extra keyword fields are added to the log
    record and the span event.  Everything is redacted; never raises.
    """
    record_violation(
        "auth",
        violation,
        request=request,
        http_status=http_status,
        detail=detail,
        user_id=user_id,
        extra=extra,
    )


def log_tenant_violation(
    request: object = None,
    resource_tenant: object = None,
    resource: object = None,
    violation: str = "cross_tenant_access",
    http_status: int | None = 403,
    detail: str | None = None,
    *,
    user_id: object = None,
    **extra: object,
) -> None:
    """Record an attempt to reach another tenant's resource.

    The caller's tenant comes from the request context (``tenant.id``), the
    resource's from ``resource_tenant`` (``otel_distro.security.resource_tenant``);
    ``resource`` names what was asked for.  Never raises.
    """
    fields: dict[str, object] = {}
    tenant = sanitize_identifier(resource_tenant)
    if tenant is not None:
        fields["otel_distro.security.resource_tenant"] = tenant
    if resource is not None:
        fields["otel_distro.security.resource"] = str(resource)[:256]
    record_violation(
        "tenant",
        violation,
        request=request,
        http_status=http_status,
        detail=detail,
        user_id=user_id,
        fields=fields,
        extra=extra,
    )


def log_token_anomaly(
    anomaly: str,
    request: object = None,
    http_status: int | None = 401,
    detail: str | None = None,
    *,
    user_id: object = None,
    **extra: object,
) -> None:
    """Record a token anomaly the app found itself (``"revoked_reuse"`` -> ``token_revoked_reuse``).

    Never pass the token (or any part of it) in ``detail`` or the extra fields: a
    token-looking value is redacted, but the safest token is one never handed over.
    """
    name = str(anomaly)
    violation = name if name.startswith("token_") else f"token_{name}"
    record_violation(
        "token",
        violation,
        request=request,
        http_status=http_status,
        detail=detail,
        user_id=user_id,
        extra=extra,
    )
