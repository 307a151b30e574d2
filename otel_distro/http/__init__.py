"""Outbound HTTP (httpx): observed clients for third-party APIs, and the hooks that log
every other httpx call."""

from __future__ import annotations

from otel_distro.http._client import (
    ExternalAsyncClient,
    ExternalClient,
    create_external_async_client,
    create_external_client,
)
from otel_distro.http._hooks import async_response_hook, response_hook
from otel_distro.http._retry import IDEMPOTENT_METHODS, RETRY_STATUSES

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "ExternalAsyncClient",
    "ExternalClient",
    "async_response_hook",
    "create_external_async_client",
    "create_external_client",
    "response_hook",
]
