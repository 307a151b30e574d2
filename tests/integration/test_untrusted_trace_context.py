"""``OTEL_DISTRO_INBOUND_TRACE_CONTEXT=trusted_peers``: clients cannot choose our trace ids.

Real launches; the test client connects from 127.0.0.1, which is or is not in
``OTEL_DISTRO_TRUSTED_PEERS`` depending on the test.
"""

from __future__ import annotations

import secrets

import pytest

from tests.support import OtlpCapture, launch_app

pytestmark = pytest.mark.integration

UNTRUSTED = {
    "OTEL_DISTRO_INBOUND_TRACE_CONTEXT": "trusted_peers",
    "OTEL_DISTRO_TRUSTED_PEERS": "10.77.0.0/16",
}


def traceparent(sampled: bool = True) -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


def test_untrusted_client_gets_a_new_linked_trace(otlp_capture: OtlpCapture) -> None:
    """An untrusted peer's traceparent is not adopted: a new trace, linked to the client's."""
    trace_id, span_id, header = traceparent()
    with launch_app(capture=otlp_capture, env=UNTRUSTED) as app:
        response = app.client().get("/health", headers={"traceparent": header})
        assert response.status_code == 200
        linked = otlp_capture.wait_for(
            lambda: [s for s in otlp_capture.spans(kind="SERVER") if s.links],
            message="the server span with a link",
        )
        app.stop()
    assert all(span.trace_id != trace_id for span in otlp_capture.spans())
    assert len(linked) == 1
    assert linked[0].parent_span_id == ""
    links = [(link.trace_id, link.span_id, link.attributes) for link in linked[0].links]
    assert links == [(trace_id, span_id, {"otel_distro.link": "untrusted_client"})]


def test_untrusted_client_cannot_force_sampling(otlp_capture: OtlpCapture) -> None:
    """With a sampler that keeps nothing at the root, a client's sampled flag changes nothing."""
    _trace_id, _span_id, header = traceparent(sampled=True)
    env = {**UNTRUSTED, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}
    env["OTEL_TRACES_SAMPLER_ARG"] = "0"
    with launch_app(capture=otlp_capture, env=env) as app:
        client = app.client()
        for _ in range(5):
            assert client.get("/health", headers={"traceparent": header}).status_code == 200
        app.stop()
    assert otlp_capture.spans(kind="SERVER") == []


def test_trusted_peer_context_is_adopted(otlp_capture: OtlpCapture) -> None:
    """A trusted peer (here 127.0.0.1) continues its own trace, as before."""
    trace_id, span_id, header = traceparent()
    env = {**UNTRUSTED, "OTEL_DISTRO_TRUSTED_PEERS": "127.0.0.0/8"}
    with launch_app(capture=otlp_capture, env=env) as app:
        app.client().get("/health", headers={"traceparent": header})
        spans = otlp_capture.wait_for(lambda: otlp_capture.spans(kind="SERVER", trace_id=trace_id))
        app.stop()
    assert spans[0].parent_span_id == span_id
    assert spans[0].links == []


def test_default_adopts_every_peer(otlp_capture: OtlpCapture) -> None:
    """Without the setting, the inbound context is adopted from any peer (the default)."""
    trace_id, _span_id, header = traceparent()
    with launch_app(capture=otlp_capture) as app:
        app.client().get("/health", headers={"traceparent": header})
        spans = otlp_capture.wait_for(lambda: otlp_capture.spans(kind="SERVER", trace_id=trace_id))
        app.stop()
    assert len(spans) == 1
