"""Outbound HTTP (httpx): the hooks that log each external call."""

from __future__ import annotations

from otel_distro.http._hooks import async_response_hook, response_hook

__all__ = ["async_response_hook", "response_hook"]
