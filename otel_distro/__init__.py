"""otel-distro: an OpenTelemetry-native instrumentation distribution for Python web backends.

The public facade.  Launch with ``opentelemetry-instrument``; in code use
:func:`get_logger`, :func:`set_tenant` and :func:`correlation_id`.
"""

from __future__ import annotations

from typing import Any

from otel_distro.context import correlation_id, current_tenant, set_tenant

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "correlation_id",
    "current_tenant",
    "get_logger",
    "set_tenant",
]


def get_logger(name: str | None = None, **initial_values: Any) -> Any:
    """A structlog logger bound to ``name``, wired to the distro's log pipeline."""
    from otel_distro.logging import get_logger as _get_logger

    logger = _get_logger(name)
    return logger.bind(**initial_values) if initial_values else logger
