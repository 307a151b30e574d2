"""Log records on their span through a real ``opentelemetry-instrument uvicorn`` launch."""

from __future__ import annotations

import json
import secrets

import pytest

from examples.panel.tokens import make_token
from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration


def test_a_requests_log_lines_are_events_of_its_server_span(otlp_capture: OtlpCapture) -> None:
    """In development the app's ``site_created`` record is a redacted ``log`` event on the
    exported SERVER span of its request, with the record's fields."""
    secret = "s" + secrets.token_hex(12)
    headers = {"Authorization": f"Bearer {make_token('u-7', 't-7')}"}
    with launch_app(capture=otlp_capture, env={"ENVIRONMENT": "development"}) as app:
        created = app.client().post(
            "/sites", json={"name": f"password={secret}", "domain": "a.example"}, headers=headers
        )
        trace_id = created.headers["x-request-id"]
        (server,) = otlp_capture.wait_for(
            lambda: otlp_capture.spans(trace_id=trace_id, kind="SERVER"),
            message="the SERVER span of POST /sites",
        )
        app.stop()
    events = [e for e in server.events if e.name == "log"]
    created_events = [e for e in events if e.attributes.get("log.message") == "site_created"]
    assert len(created_events) == 1, events
    attributes = created_events[0].attributes
    assert attributes["log.severity"] == "INFO"
    assert str(attributes["site_id"]).startswith("site-")
    assert secret not in json.dumps([e.attributes for e in server.events])
