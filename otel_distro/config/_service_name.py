"""The start-up hint for a service without a name (it would show as ``unknown_service``)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["service_name_hint"]

HINT = (
    "OTEL_SERVICE_NAME is not set (nor service.name in OTEL_RESOURCE_ATTRIBUTES): "
    "the service shows as unknown_service:python; set OTEL_SERVICE_NAME=<your-service>"
)


def service_name_hint(env: Mapping[str, str]) -> str | None:
    """The one-line hint when neither variable names the service, else None."""
    if env.get("OTEL_SERVICE_NAME", "").strip():
        return None
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == "service.name" and value.strip():
            return None
    return HINT
