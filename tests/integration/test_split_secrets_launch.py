"""A real ``opentelemetry-instrument uvicorn`` launch: a private key logged over several
consecutive records of one logger, and a ``password:`` record followed by its value,
reach neither the exported records nor the printed lines; another logger's records in
between are exported as they were logged."""

from __future__ import annotations

import json
import random

import pytest

from tests.support import OtlpCapture, launch_app
from tests.support.split_secrets import chunks, password, pem_records

pytestmark = pytest.mark.integration


def test_split_key_and_password_never_leave_the_process(otlp_capture: OtlpCapture) -> None:
    """Every piece of the key and the password value are replaced on every channel."""
    pieces, lines = pem_records(random.SystemRandom().randint(2, 4))
    value, other = password(), password()
    env = {
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "INFO",
        "SPLIT_PIECES": json.dumps(pieces),
        "SPLIT_VALUE": value,
        "SPLIT_OTHER": other,
    }
    with launch_app(
        "tests.integration.split_secrets_app:app", capture=otlp_capture, env=env
    ) as app:
        assert app.client().get("/split").status_code == 200
        otlp_capture.wait_for(
            lambda: [log for log in otlp_capture.logs() if str(log.body) == "done"],
            message="the last record of the route",
        )
        app.stop()
        output = app.stdout_text()
    logs = otlp_capture.logs()
    exported = "\n".join(f"{log.body} {log.attributes}" for log in logs)
    for text in (exported, output):
        assert value not in text
        assert not [chunk for chunk in chunks(lines) if chunk in text]
    bodies = [str(log.body) for log in logs]
    assert bodies.count(f"{other} order placed") == len(pieces) + 1
    assert any(body.endswith("(key ok)") for body in bodies)
    assert any(body.endswith(" (from the vault)") for body in bodies)
