"""Error context: Sentry initialised with the distro's redaction."""

from __future__ import annotations

from otel_distro.errors._sentry import init_sentry

__all__ = ["init_sentry"]
