"""A rejected baggage signature is a security event: span event, record and counter."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from otel_distro._signature_events import SignatureViolationSpanProcessor, with_violation
from tests.security.conftest import Harness


def test_a_signature_violation_is_one_event_on_three_signals(
    security: Callable[..., Harness],
) -> None:
    """The entry span gets the event, one WARNING record shares its ids, the counter counts
    ``baggage_signature_<reason>``; nothing but the reason describes the baggage."""
    harness = security()
    harness.tracer_provider.add_span_processor(SignatureViolationSpanProcessor())
    tracer = harness.tracer_provider.get_tracer("test")
    context = with_violation(Context(), "bad_mac")
    with tracer.start_as_current_span("server", context=context, kind=SpanKind.SERVER) as span:
        pass
    (server,) = [s for s in harness.spans() if s.name == "server"]
    events = [e for e in server.events if e.name == "security.violation"]
    assert [e.attributes["violation"] for e in events] == ["baggage_signature_bad_mac"]
    assert events[0].attributes["otel_distro.security.violation"] == "baggage_signature_bad_mac"
    (record,) = harness.records("security_violation")
    ids = span.get_span_context()
    assert (record.trace_id, record.span_id) == (ids.trace_id, ids.span_id)
    points = harness.points("otel_distro.security.violations")
    assert [(p["otel_distro.security.violation"], n) for p, n in points] == [
        ("baggage_signature_bad_mac", 1)
    ]
