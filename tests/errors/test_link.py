"""The trace link shared by Sentry events and anything printing a trace's address."""

from __future__ import annotations

from otel_distro.config import load_settings
from otel_distro.errors import trace_link

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_default_link_opens_the_local_jaeger() -> None:
    """By default the link is the local Jaeger UI's trace page."""
    assert trace_link(TRACE_ID, load_settings({})) == f"http://localhost:16686/trace/{TRACE_ID}"


def test_template_from_the_environment() -> None:
    """OTEL_DISTRO_TRACE_URL_TEMPLATE replaces ``{trace_id}`` wherever it stands."""
    settings = load_settings(
        {"OTEL_DISTRO_TRACE_URL_TEMPLATE": "https://ui.test/t?id={trace_id}&x=1"}
    )
    assert trace_link(TRACE_ID, settings) == f"https://ui.test/t?id={TRACE_ID}&x=1"
