"""The link to one trace in the trace UI, from ``OTEL_DISTRO_TRACE_URL_TEMPLATE``."""

from __future__ import annotations

from otel_distro.config import Settings, get_settings

__all__ = ["trace_link"]


def trace_link(trace_id: str, settings: Settings | None = None) -> str:
    """The trace UI's address of ``trace_id`` (32 hex digits): the template's
    ``{trace_id}`` replaced (Sentry events carry the same link as ``trace_url``)."""
    template = (settings or get_settings()).trace_url_template
    return template.replace("{trace_id}", trace_id)
