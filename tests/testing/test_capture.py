"""``otel_capture`` in a user's test suite: queries return what the pipeline exported."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def _passes(pytester: pytest.Pytester, source: str, passed: int = 1) -> None:
    pytester.makepyfile(test_user=source)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed)


def test_an_endpoint_emits_auth_violation_with_the_route_and_no_token(
    sample: pytest.Pytester,
) -> None:
    """The seed's violation example: one WARNING auth_violation with method and route, the
    bearer token nowhere in any signal."""
    _passes(
        sample,
        '''
import secrets
from starlette.testclient import TestClient
from sample_app import app

def test_violation_is_logged(otel_capture):
    token = secrets.token_urlsafe(24)
    client = TestClient(app)
    response = client.post("/api/v1/admin/7", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 403
    (record,) = otel_capture.logs(event="auth_violation", level="warning")
    assert record.attributes["otel_distro.security.violation"] == "missing_permission"
    assert record.attributes["http.request.method"] == "POST"
    assert record.attributes["http.route"] == "/api/v1/admin/{item}"
    (server,) = otel_capture.spans(kind="server")
    assert record.trace_id == server.trace_id
    assert server.event("security.violation")
    otel_capture.assert_no_secret(token)
''',
    )
