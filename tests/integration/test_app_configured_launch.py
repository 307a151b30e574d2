"""A server whose app configured logging itself (real uvicorn under opentelemetry-instrument):
its handlers, levels and destinations stay, the distro adds no line of its own to stdout or
to the app's handlers, and records are still exported, redacted."""

from __future__ import annotations

import json
import secrets

import pytest

from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration

REDACTED = "REDACTED"


def test_app_logging_configuration_wins_under_a_server(otlp_capture: OtlpCapture) -> None:
    """The app's file gets its WARNING line (redacted) and not its INFO nor server lines;
    uvicorn prints its own lines as without the distro; stdout carries no access-log or
    external_http_call line; all of them are exported."""
    secret = "s" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")
    env = {"ENVIRONMENT": "production"}
    with launch_app(
        "tests.integration.app_configured_app:app", capture=otlp_capture, env=env
    ) as app:
        response = app.client().get("/work", params={"secret": secret})
        assert response.status_code == 200, response.text
        otlp_capture.wait_for(
            lambda: any(log.body == "external_http_call" for log in otlp_capture.logs()),
            message="the outbound-call record",
        )
        app.stop()
        written = (app.workdir / "app.log").read_text()
        stdout, stderr = app.stdout_text(), app.stderr_text()
    assert f"APP WARNING app.views login password={REDACTED}" in written, written
    assert "not shown" not in written and secret not in written
    assert " uvicorn" not in written  # the server's lines stay the server's, as without us
    assert "Application startup complete." in stderr
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line).get("event"))
        except ValueError:
            continue
    assert "http_request" not in events and "external_http_call" not in events, stdout
    assert secret not in stdout and secret not in stderr
    bodies = [log.body for log in otlp_capture.logs()]
    assert f"login password={REDACTED}" in bodies and "http_request" in bodies
    assert "not shown: below the app's WARNING" not in bodies
    assert "Application startup complete." in bodies  # server records are still exported
