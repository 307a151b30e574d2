"""A rejected baggage signature is a security event: span event, record and counter."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otel_distro._signature_events import SignatureViolationSpanProcessor, with_violation
from otel_distro.asgi import instrument
from otel_distro.config import get_settings
from otel_distro.propagation import TrustedBaggagePropagator
from otel_distro.security._state import get_state
from tests.security.conftest import Harness

VIOLATION = "otel_distro.security.violation"


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


def _whoami(request: Request) -> Response:
    return Response("ok")


@pytest.fixture
def signing(security: Callable[..., Harness]) -> Iterator[Harness]:
    """The harness with a signing key, the signature span processor and the distro's
    baggage propagator as the global one (what the configurator installs)."""
    harness = security(OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=f"k1:{secrets.token_urlsafe(32)}")
    harness.tracer_provider.add_span_processor(SignatureViolationSpanProcessor())
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(
        CompositePropagator(
            [TraceContextTextMapPropagator(), TrustedBaggagePropagator(get_settings())]
        )
    )
    yield harness
    propagate.set_global_textmap(previous)


async def _forge(app: Any) -> None:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.44", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/whoami/3", headers={"baggage": "tenant.id=evil"})
    assert answer.status_code == 200


def _request_fields(attributes: dict[str, Any]) -> None:
    assert attributes["violation"] == "baggage_signature_missing"
    assert attributes["http.request.method"] == "GET" and attributes["url.path"] == "/whoami/3"
    assert attributes["client.address"] == "192.0.2.44"
    assert "evil" not in repr(attributes)


async def test_a_forged_baggage_on_a_request_is_a_full_request_event(signing: Harness) -> None:
    """A request whose baggage signature is refused: the server span gets the attribute, the
    event and record carry the request's method, path and client address (it is recorded as
    the request starts: no route or status yet), and the address is counted by the abuse
    detector like any other violation."""
    await _forge(signing.app(Route("/whoami/{n}", _whoami)))
    (server,) = signing.server_spans()
    assert server.attributes is not None
    assert server.attributes[VIOLATION] == "baggage_signature_missing"
    (event,) = [e for e in server.events if e.name == "security.violation"]
    (record,) = signing.records("security_violation")
    _request_fields(dict(event.attributes or {}))
    _request_fields(dict(record.attributes or {}))
    assert record.span_id == server.context.span_id
    points = signing.points("otel_distro.security.violations")
    assert points == [({VIOLATION: "baggage_signature_missing"}, 1)]
    assert len(get_state().hosts) == 1  # the address was counted for abuse detection


async def test_an_unsampled_request_still_gives_the_record_and_the_count(
    signing: Harness,
) -> None:
    """No span processor sees an unsampled server span: the ASGI hook records the violation
    (record with the request's trace id and fields, counter), once."""
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SignatureViolationSpanProcessor())
    app = instrument(
        Starlette(routes=[Route("/whoami/{n}", _whoami)]),
        tracer_provider=provider,
        exclude_spans=["receive", "send"],
    )
    await _forge(app)
    (record,) = signing.records("security_violation")
    _request_fields(dict(record.attributes or {}))
    assert record.trace_id != 0
    points = signing.points("otel_distro.security.violations")
    assert points == [({VIOLATION: "baggage_signature_missing"}, 1)]
