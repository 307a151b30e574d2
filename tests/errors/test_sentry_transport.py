"""Sentry in-process through its real transport, posting to a local ingest server."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_distro import set_tenant
from otel_distro.config import load_settings
from otel_distro.errors import init_sentry
from tests.errors.sentry_ingest import SentryIngest, sentry_ingest
from tests.integrations.test_sentry import undo_sentry_patches

sentry_sdk = pytest.importorskip("sentry_sdk")

__all__ = ["undo_sentry_patches"]  # autouse: Sentry's process-wide patches undone


@pytest.fixture
def ingest() -> Iterator[SentryIngest]:
    with sentry_ingest() as server:
        settings = load_settings(
            {
                "ENABLE_SENTRY": "true",
                "SENTRY_DSN": server.dsn,
                "OTEL_DISTRO_TRACE_URL_TEMPLATE": "http://ui.test/t/{trace_id}",
            }
        )
        assert init_sentry(settings) is True
        try:
            yield server
        finally:
            sentry_sdk.get_client().close(timeout=2)
            sentry_sdk.init(dsn=None)


def _exception_events(ingest: SentryIngest) -> list[dict[str, Any]]:
    return [event for event in ingest.of_type("event") if event.get("exception")]


def test_exception_logged_twice_is_one_redacted_event_on_the_span(ingest: SentryIngest) -> None:
    """Two ``logger.error(exc_info=...)`` of one exception inside a span: one envelope
    event, with the span's trace context, tenant, link, and no planted secret."""
    secret = secrets.token_hex(12)
    tracer = TracerProvider().get_tracer("t")
    logger = logging.getLogger("tests.errors.transport")
    with tracer.start_as_current_span("request") as span, set_tenant(tenant_id="t-1"):
        sentry_sdk.add_breadcrumb(message=f"calling with api_key={secret}")
        try:
            api_key = secret  # noqa: F841 - a local of the failing frame
            raise RuntimeError(f"upstream refused password={secret}")
        except RuntimeError:
            logger.error("upstream failed token=%s", secret, exc_info=True)
            logger.error("again", exc_info=True)
    sentry_sdk.flush(timeout=5)
    (event,) = ingest.wait_for(lambda: _exception_events(ingest), message="the event")
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert event["contexts"]["trace"]["trace_id"] == trace_id
    assert event["tags"]["tenant.id"] == "t-1"
    assert event["tags"]["trace_url"] == f"http://ui.test/t/{trace_id}"
    assert secret not in ingest.text()
    assert len(_exception_events(ingest)) == 1


def test_sentry_adds_no_trace_headers_of_its_own(ingest: SentryIngest) -> None:
    """Outgoing requests get no ``sentry-trace`` header: OTel's propagators are the only ones."""
    from sentry_sdk.tracing_utils import should_propagate_trace

    client = sentry_sdk.get_client()
    assert client.options["instrumenter"] == "otel"
    assert should_propagate_trace(client, "http://internal.example/x") is False
