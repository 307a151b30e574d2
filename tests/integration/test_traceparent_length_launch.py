"""An over-long inbound ``traceparent`` through a real server: dropped, a new trace, no harm.

OpenTelemetry 1.45.2 ignores a ``traceparent`` longer than 512 characters.  A header the
older propagator adopted (a future version with extra fields, which W3C Trace Context
asks receivers to accept) now gives the request a trace of its own when it is one
character too long, and the response is the same as for the app's other requests; at
exactly 512 characters it is still adopted.  The SDK says so in a warning of its own,
which the distro renders (not once per request) and never exports.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support import AppProcess, CapturedSpan, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

APP = "tests.integration.hostile_app:app"
LIMIT = 512
WARNING = "traceparent header exceeded the maximum length"


def _ids() -> tuple[str, str]:
    return secrets.token_hex(16), secrets.token_hex(8)


def _future_version(trace_id: str, span_id: str, length: int = LIMIT + 1) -> str:
    """A version-``cc`` header with an extra field, *length* characters long."""
    header = f"cc-{trace_id}-{span_id}-01-"
    return header + "a" * (length - len(header))


@pytest.fixture(scope="module")
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def app(capture: OtlpCapture) -> Iterator[AppProcess]:
    with launch_app(APP, capture=capture, env={"ENVIRONMENT": "production"}) as running:
        yield running


def _server_spans(capture: OtlpCapture, trace_id: str) -> list[CapturedSpan]:
    return capture.wait_for(
        lambda: capture.spans(kind="SERVER", trace_id=trace_id),
        message=f"the server span of trace {trace_id}",
    )


def test_an_over_long_traceparent_starts_a_new_trace(app: AppProcess, capture: OtlpCapture) -> None:
    """The client's ids are not adopted: the server span is the root of a trace of its own;
    the status and body are those of the same request without the header."""
    trace_id, span_id = _ids()
    header = _future_version(trace_id, span_id)
    assert len(header) == LIMIT + 1
    path = f"over-long-{secrets.token_hex(4)}"
    plain = app.client().get(f"/{path}")
    response = app.client().get(f"/{path}", headers={"traceparent": header})
    assert (response.status_code, response.json()) == (plain.status_code, plain.json())
    assert response.json() == {"path": path}
    (span,) = _server_spans(capture, response.headers["x-request-id"])
    assert span.trace_id != trace_id and span.parent_span_id == ""
    assert span.status_code != "ERROR"
    assert capture.spans(trace_id=trace_id) == []


def test_a_traceparent_at_the_limit_is_still_adopted(app: AppProcess, capture: OtlpCapture) -> None:
    """The control: the same header at exactly 512 characters joins the client's trace."""
    trace_id, span_id = _ids()
    header = _future_version(trace_id, span_id, LIMIT)
    assert len(header) == LIMIT
    response = app.client().get("/at-limit", headers={"traceparent": header})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == trace_id
    (span,) = _server_spans(capture, trace_id)
    assert span.parent_span_id == span_id


def test_the_sdk_warning_is_rendered_not_per_request_and_never_exported(
    app: AppProcess, capture: OtlpCapture
) -> None:
    """A flood of over-long headers: the SDK's warning is a line of the app's output (once,
    then at most once a minute), never one line per request, and never a record."""
    flood = 30
    with app.client() as client:
        for _ in range(flood):
            trace_id, span_id = _ids()
            client.get("/health", headers={"traceparent": _future_version(trace_id, span_id)})
    capture.wait_for(
        lambda: WARNING in app.stdout_text() + app.stderr_text(), message="the SDK's warning"
    )
    lines = [
        line for line in (app.stdout_text() + app.stderr_text()).splitlines() if WARNING in line
    ]
    assert 1 <= len(lines) < flood, lines
    assert not [log for log in capture.logs() if WARNING in str(log.body)]
