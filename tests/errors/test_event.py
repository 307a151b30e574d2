"""Sentry's ``before_send``: redacted, linked to the OTel trace, once per exception."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from otel_distro import _exception_origin, set_tenant
from otel_distro.errors import _event
from otel_distro.errors._event import before_breadcrumb, before_send, dropped_events


@pytest.fixture(autouse=True)
def template() -> Iterator[None]:
    _event.set_trace_url_template("http://jaeger.test/trace/{trace_id}")
    yield
    _event.set_trace_url_template("")


def _event_of(secret: str) -> dict[str, Any]:
    return {
        "logentry": {"message": "failed %s", "params": [f"password={secret}"]},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"bad api_key={secret}",
                    "stacktrace": {
                        "frames": [{"function": "f", "vars": {"api_key": f"'{secret}'"}}]
                    },
                }
            ]
        },
        "breadcrumbs": {"values": [{"message": f"token={secret}"}]},
        "request": {
            "headers": {"Authorization": f"Bearer {secret}"},
            "query_string": f"token={secret}",
        },
        "user": {"id": "u-1", "session_token": secret},
    }


def test_every_part_of_the_event_is_redacted() -> None:
    """Params, exception values, frame locals, breadcrumbs, request and user: no secret left."""
    secret = secrets.token_hex(12)
    scrubbed = before_send(_event_of(secret), {})
    assert scrubbed is not None
    assert secret not in repr(scrubbed)


def test_asgi_header_pairs_in_locals_are_redacted_by_name() -> None:
    """A scope's ``headers`` pair list in a frame's locals loses its credential values."""
    secret = secrets.token_hex(12)
    event = {
        "extra": {"scope": {"headers": [["b'x-api-key'", f"b'{secret}'"], ["b'accept'", "b'*/*'"]]}}
    }
    scrubbed = before_send(event, {})
    assert secret not in repr(scrubbed)
    assert scrubbed["extra"]["scope"]["headers"][1] == ["b'accept'", "b'*/*'"]


def test_event_carries_the_current_span_tenant_and_link() -> None:
    """Inside a span: trace context, trace_id/span_id/tenant.id/user.id tags and the trace link."""
    tracer = TracerProvider().get_tracer("t")
    with (
        tracer.start_as_current_span("request", kind=SpanKind.SERVER) as span,
        set_tenant(tenant_id="t-7", user_id="u-7"),
    ):
        scrubbed = before_send({"message": "x"}, {})
    context = span.get_span_context()
    trace_id, span_id = format(context.trace_id, "032x"), format(context.span_id, "016x")
    assert scrubbed["contexts"]["trace"]["trace_id"] == trace_id
    assert scrubbed["contexts"]["trace"]["span_id"] == span_id
    tags = scrubbed["tags"]
    assert (tags["trace_id"], tags["span_id"], tags["tenant.id"], tags["user.id"]) == (
        trace_id,
        span_id,
        "t-7",
        "u-7",
    )
    assert tags["trace_url"] == f"http://jaeger.test/trace/{trace_id}"


def test_exception_reported_after_its_span_uses_the_remembered_request() -> None:
    """The server's report of an escaped exception (span ended) is linked to that span."""
    tracer = TracerProvider().get_tracer("t")
    exc = RuntimeError("boom")
    with tracer.start_as_current_span("request") as span, set_tenant(tenant_id="t-late"):
        _exception_origin.remember(exc)
    scrubbed = before_send({"message": "x"}, {"exc_info": (RuntimeError, exc, None)})
    assert scrubbed["tags"]["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert scrubbed["tags"]["tenant.id"] == "t-late"


def test_one_event_per_exception() -> None:
    """The same exception reported twice (app log, then the server): the second is dropped."""
    exc = ValueError("once")
    hint = {"exc_info": (ValueError, exc, None)}
    assert before_send({"message": "first"}, hint) is not None
    assert before_send({"message": "second"}, hint) is None


@pytest.mark.usefixtures("production_mode")
def test_unscrubbable_event_is_dropped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """When redaction fails the event is not sent, and the drop is counted."""

    def fail(value: Any) -> Any:
        raise RuntimeError("redactor down")

    monkeypatch.setattr(_event, "_redact", fail)
    before = dropped_events()
    assert before_send({"message": "x"}, {}) is None
    assert before_breadcrumb({"message": "x"}, {}) is None
    assert dropped_events() == before + 2


@pytest.mark.parametrize(
    "template", ["token=%s", "login with password %s failed", "auth: Bearer %s"]
)
def test_log_params_are_redacted_in_their_message(template: str) -> None:
    """A bare param is judged formatted into its message: ``token=%s`` makes it a secret."""
    secret = secrets.token_hex(12)
    event = {"logentry": {"message": template + " (%s)", "params": [secret, "kept"]}}
    scrubbed = before_send(event, {})
    assert secret not in repr(scrubbed)


def test_harmless_log_params_are_kept() -> None:
    """Params that are no secret in their message stay as they were."""
    event = {"logentry": {"message": "order %s shipped to %s", "params": ["A-17", "Berlin"]}}
    assert before_send(event, {})["logentry"]["params"] == ["A-17", "Berlin"]
