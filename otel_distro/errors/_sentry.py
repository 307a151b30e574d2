"""Optional Sentry error reporting (``ENABLE_SENTRY``) that shares the OTel trace.

OTel stays the only tracer: Sentry runs with ``instrumenter="otel"``, so its own
framework integrations start no transaction of their own.  With
``SENTRY_TRACES_SAMPLE_RATE`` above zero Sentry's span processor is added to the
distro's tracer provider and Sentry's transactions are the OTel spans (same trace
id), and only the OTel propagators write outgoing trace headers.  Every event,
transaction and breadcrumb is redacted first (:mod:`otel_distro.errors._event`).

A missing ``sentry`` extra, an empty or a malformed DSN: one start-up line, the app runs
without Sentry.
"""

from __future__ import annotations

from typing import Any

from otel_distro._report import internal_error
from otel_distro.config import Settings, report
from otel_distro.errors._event import (
    before_breadcrumb,
    before_send,
    before_send_transaction,
    set_trace_url_template,
)

__all__ = ["init_sentry"]


def _scrub(event: Any, hint: Any) -> Any:
    """The event redacted and linked to its trace, or None (see :func:`before_send`)."""
    return before_send(event, hint)


def _dsn_problem(dsn: str) -> str | None:
    """Why ``dsn`` is not a usable Sentry DSN (never quoting it: it holds a key), or None."""
    try:
        from sentry_sdk.utils import Dsn

        Dsn(dsn)
    except Exception as exc:
        return type(exc).__name__
    return None


def init_sentry(settings: Settings) -> bool:
    """Initialise the Sentry SDK from settings; True when it was started."""
    if not settings.sentry_dsn.strip():
        report("ENABLE_SENTRY=true but SENTRY_DSN is empty: expected a Sentry DSN; Sentry is off")
        return False
    try:
        import sentry_sdk
    except ImportError:
        report(
            "ENABLE_SENTRY=true but sentry-sdk is not installed "
            "(pip install 'otel-distro[sentry]'); Sentry is off"
        )
        return False
    problem = _dsn_problem(settings.sentry_dsn.strip())
    if problem is not None:
        report(
            f"SENTRY_DSN is not a valid Sentry DSN ({problem}): expected "
            "scheme://key@host/project; Sentry is off"
        )
        return False
    set_trace_url_template(settings.trace_url_template)
    try:
        sentry_sdk.init(
            dsn=settings.sentry_dsn.strip(),
            environment=settings.sentry_environment,
            traces_sample_rate=settings.sentry_traces_sample_rate,
            instrumenter="otel",
            # OTel's propagators alone write trace headers (no sentry-trace, no Sentry baggage)
            trace_propagation_targets=[],
            before_send=before_send,
            before_send_transaction=before_send_transaction,
            before_breadcrumb=before_breadcrumb,
        )
    except Exception as exc:
        report(f"SENTRY_DSN is not usable ({type(exc).__name__}); Sentry is off")
        return False
    if settings.sentry_traces_sample_rate > 0:
        _share_otel_spans()
    return True


def _share_otel_spans() -> None:
    """Add Sentry's span processor to the OTel tracer provider (once)."""
    try:
        from opentelemetry import trace
        from sentry_sdk.integrations.opentelemetry import SentrySpanProcessor

        provider: Any = trace.get_tracer_provider()
        add = getattr(provider, "add_span_processor", None)
        if add is None:
            report(
                "SENTRY_TRACES_SAMPLE_RATE > 0 but no OTel SDK tracer provider is set: "
                "Sentry gets no performance data"
            )
            return
        processor = SentrySpanProcessor()
        if not getattr(processor, "_otel_distro_added", False):
            add(processor)
            processor._otel_distro_added = True  # type: ignore[attr-defined]
    except Exception:
        internal_error("errors.sentry_spans")
