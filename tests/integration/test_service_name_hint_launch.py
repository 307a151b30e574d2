"""The missing-service-name hint through a real ``opentelemetry-instrument uvicorn`` launch."""

from __future__ import annotations

import pytest

from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OTEL_SERVICE_NAME": ""}, 1),
        ({"OTEL_SERVICE_NAME": "", "OTEL_RESOURCE_ATTRIBUTES": "service.name=billing"}, 0),
        ({"OTEL_SERVICE_NAME": "billing"}, 0),
    ],
    ids=["unnamed", "named-by-resource-attributes", "named"],
)
def test_an_unnamed_service_gets_one_hint_line(
    otlp_capture: OtlpCapture, env: dict[str, str], expected: int
) -> None:
    """Start-up prints the hint once when nothing names the service, never otherwise."""
    with launch_app(capture=otlp_capture, env=env) as app:
        app.client().get("/health")
        app.stop()
        stderr = app.stderr_text()
    hints = [line for line in stderr.splitlines() if "OTEL_SERVICE_NAME is not set" in line]
    assert len(hints) == expected, stderr
