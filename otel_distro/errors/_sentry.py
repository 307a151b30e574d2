"""Optional Sentry error reporting (``ENABLE_SENTRY``), with events redacted before sending."""

from __future__ import annotations

from typing import Any

from otel_distro._report import internal_error
from otel_distro.config import Settings, report

__all__ = ["init_sentry"]


def _scrub(event: Any, hint: Any) -> Any:
    try:
        from otel_distro.redaction import get_redactor

        return get_redactor().redact_value(event)
    except Exception:
        internal_error("errors.sentry_scrub")
        return None  # fail closed: an event we cannot scrub is not sent


def init_sentry(settings: Settings) -> bool:
    """Initialise the Sentry SDK from settings; True when it was started."""
    if not settings.sentry_dsn:
        report("ENABLE_SENTRY=true but SENTRY_DSN is empty: expected a Sentry DSN; Sentry is off")
        return False
    try:
        import sentry_sdk
    except ImportError:
        report(
            "ENABLE_SENTRY=true but sentry-sdk is not installed (pip install 'otel-distro[sentry]')"
        )
        return False
    try:
        sentry_sdk.init(
            dsn=settings.sentry_dsn,
            environment=settings.sentry_environment,
            traces_sample_rate=settings.sentry_traces_sample_rate,
            before_send=_scrub,
            before_send_transaction=_scrub,
        )
    except Exception as exc:
        report(f"SENTRY_DSN is not usable ({type(exc).__name__}); Sentry is off")
        return False
    return True
