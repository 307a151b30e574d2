"""Sentry in-process through its real transport, posting to a local ingest server."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from otel_distro.config import load_settings
from otel_distro.errors import init_sentry
from tests.errors.sentry_ingest import SentryIngest, sentry_ingest

pytestmark = pytest.mark.usefixtures("undo_sentry_patches")

sentry_sdk = pytest.importorskip("sentry_sdk")


@pytest.fixture
def ingest() -> Iterator[SentryIngest]:
    # setup_once runs once per process; an earlier test's patches were undone: run it again
    from sentry_sdk import integrations

    integrations._processed_integrations.clear()
    integrations._installed_integrations.clear()
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


def test_exception_captured_twice_is_one_redacted_event_on_the_span() -> None:
    """One exception captured twice inside a span (in a fresh interpreter): one envelope
    event, with the span's trace context, tenant, link, and no planted secret (message,
    frame local, breadcrumb)."""
    secret = secrets.token_hex(12)
    with sentry_ingest() as server:
        env = {
            **os.environ,
            "ENABLE_SENTRY": "true",
            "SENTRY_DSN": server.dsn,
            "OTEL_DISTRO_TRACE_URL_TEMPLATE": "http://ui.test/t/{trace_id}",
            "PLANTED_SECRET": secret,
        }
        done = subprocess.run(
            [sys.executable, "-m", "tests.errors.sentry_scenario"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        trace_id = done.stdout.strip().splitlines()[-1]
        (event,) = server.wait_for(lambda: _exception_events(server), message="the event")
        text = server.text()
    assert event["contexts"]["trace"]["trace_id"] == trace_id
    assert event["tags"]["tenant.id"] == "t-1"
    assert event["tags"]["trace_url"] == f"http://ui.test/t/{trace_id}"
    assert secret not in text
    assert len(_exception_events(server)) == 1


def test_sentry_adds_no_trace_headers_of_its_own(ingest: SentryIngest) -> None:
    """Outgoing requests get no ``sentry-trace`` header: OTel's propagators are the only ones."""
    from sentry_sdk.tracing_utils import should_propagate_trace

    client = sentry_sdk.get_client()
    assert client.options["instrumenter"] == "otel"
    assert should_propagate_trace(client, "http://internal.example/x") is False
