"""Real launches: a 20,000-record burst is exported whole, hostile records cost nothing."""

from __future__ import annotations

import pytest

from tests.integration.burst_app import SECRET
from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration

APP = "tests.integration.burst_app:app"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_burst_beyond_the_batch_queue_is_exported_once(
    otlp_capture: OtlpCapture, workers: int
) -> None:
    """20,000 records from one request (ten times the SDK's log queue): every one is
    written and exported exactly once, with the request's trace id."""
    with launch_app(
        APP, capture=otlp_capture, env={"ENVIRONMENT": "production"}, workers=workers
    ) as app:
        response = app.client(timeout=120).get("/burst", params={"n": 20000})
        assert response.status_code == 200
        trace_id = response.headers.get("x-request-id")

        def burst() -> list[object]:
            return [log for log in otlp_capture.logs() if log.body == "burst"]

        otlp_capture.wait_for(lambda: len(burst()) >= 20000, timeout=60, message="the burst")
        app.stop()
        lines = app.stdout_text().count('"event": "burst"')
    records = [log for log in otlp_capture.logs() if log.body == "burst"]
    assert sorted(log.attributes["seq"] for log in records) == list(range(20000))
    assert lines == 20000
    if trace_id:
        assert {log.trace_id for log in records} == {trace_id}


def test_hostile_records_neither_leak_nor_lose_their_batch(otlp_capture: OtlpCapture) -> None:
    with launch_app(APP, capture=otlp_capture, env={"ENVIRONMENT": "production"}) as app:
        assert app.client().get("/hostile").status_code == 200
        otlp_capture.wait_for(
            lambda: any(log.body == "after_hostile" for log in otlp_capture.logs()),
            message="the record after the hostile ones",
        )
        app.stop()
        stdout = app.stdout_text()
    bodies = [str(log.body) for log in otlp_capture.logs()]
    assert any(body.startswith('{"note":') for body in bodies), bodies
    assert "connected" in bodies
    for text in (otlp_capture.raw_bytes().decode("utf-8", "replace"), stdout):
        assert SECRET not in text
