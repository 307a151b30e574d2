"""Factory clients against a real local third party: span, record, metrics, trust, limits."""

from __future__ import annotations

import asyncio
import secrets
import socket
from typing import Any

import httpx
import pytest
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from otel_distro.http import create_external_async_client, create_external_client
from tests.http.conftest import Telemetry, configure
from tests.support import AppProcess

SEMCONV_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def only_record(telemetry: Telemetry) -> tuple[str, dict[str, Any]]:
    [(level, event, fields)] = telemetry.records
    assert event == "external_http_call"
    return level, fields


def test_span_carries_peer_service_and_a_sanitised_url(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """The call's CLIENT span names the service, and its URL has no userinfo or query secret."""
    user, password, key = (secrets.token_hex(8) for _ in range(3))
    base = third_party.base_url.replace("://", f"://{user}:{password}@")
    with create_external_client("billing", base, **telemetry.providers) as client:
        assert client.get("/echo", params={"api_key": key, "page": "2"}).status_code == 200
    [span] = telemetry.spans()
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert attributes["peer.service"] == "billing"
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["http.response.status_code"] == 200
    url = attributes["url.full"]
    assert "page=2" in url and "/echo" in url
    assert all(secret not in url for secret in (user, password, key))


def test_the_record_has_service_method_url_status_duration_and_attempts(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """One info record per successful call, with the fields the README lists."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        client.post("/echo/v1/charges", json={"amount": 1000})
    level, fields = only_record(telemetry)
    assert level == "info"
    assert fields["peer.service"] == "billing"
    assert fields["http.request.method"] == "POST"
    assert fields["url.full"] == f"{third_party.base_url}/echo/v1/charges"
    assert fields["http.response.status_code"] == 200
    assert fields["attempts"] == 1
    assert isinstance(fields["duration_ms"], float) and fields["duration_ms"] >= 0
    assert "error.type" not in fields


@pytest.mark.parametrize(("code", "level"), [(404, "warning"), (429, "warning"), (503, "error")])
def test_record_level_follows_the_outcome(
    third_party: AppProcess, telemetry: Telemetry, code: int, level: str
) -> None:
    """4xx answers are warnings and 5xx answers errors, with the status as error.type."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        client.get(f"/status/{code}")
    got, fields = only_record(telemetry)
    assert (got, fields["error.type"]) == (level, str(code))


def test_a_transport_error_is_an_error_record_and_is_re_raised(telemetry: Telemetry) -> None:
    """A refused connection reaches the app unchanged; span and record say ConnectError."""
    url = f"http://127.0.0.1:{closed_port()}"
    with (
        create_external_client("billing", url, **telemetry.providers) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get("/anything")
    level, fields = only_record(telemetry)
    assert (level, fields["error.type"], fields["otel_distro.failure"]) == (
        "error",
        "ConnectError",
        "connect",
    )
    [span] = telemetry.spans()
    assert span.status.is_ok is False
    assert dict(span.attributes or {})["error.type"] == "ConnectError"


def planted_headers() -> dict[str, str]:
    """Random secrets in every header shape the record must never show in clear."""
    token = secrets.token_urlsafe(24)
    part = secrets.token_urlsafe
    jwt = f"eyJ{part(12)}.eyJ{part(12)}.{part(16)}"
    return {
        "Authorization": f"Bearer {token}",
        "Cookie": f"session={secrets.token_hex(16)}",
        "X-API-Key": secrets.token_hex(16),
        "X-Debug-Context": jwt,
        "X-Echo-Set-Cookie": f"sid={secrets.token_hex(16)}; HttpOnly",
    }


def secret_parts(headers: dict[str, str]) -> list[str]:
    """The secret pieces of :func:`planted_headers`."""
    return [
        headers["Authorization"].split()[1],
        headers["Cookie"].split("=", 1)[1],
        headers["X-API-Key"],
        headers["X-Debug-Context"],
        headers["X-Echo-Set-Cookie"].split("=", 1)[1].split(";")[0],
    ]


def test_request_and_response_headers_are_recorded_redacted(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """Authorization, Cookie, X-API-Key, token-shaped values and Set-Cookie never show in clear."""
    headers = planted_headers()
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        response = client.get("/echo", headers=headers)
    assert response.json()["headers"]["x-api-key"] == headers["X-API-Key"]  # sent as given
    _, fields = only_record(telemetry)
    for name in ("authorization", "cookie", "x-api-key", "x-debug-context"):
        assert f"http.request.header.{name}" in fields
    assert "http.response.header.set-cookie" in fields
    assert fields["http.request.header.user-agent"].startswith("python-httpx/")
    text = telemetry.everything()
    for secret in secret_parts(headers):
        assert secret not in text


def test_duration_metric_uses_the_semconv_name_unit_buckets_and_bounded_attributes(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """http.client.request.duration: seconds, semconv buckets, no path or id attributes."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        client.get(f"/echo/customers/{secrets.token_hex(6)}")
        client.get("/status/404")
    metric = telemetry.metric("http.client.request.duration")
    assert metric.unit == "s"
    points = metric.data.data_points
    assert {tuple(p.explicit_bounds) for p in points} == {SEMCONV_BUCKETS}
    allowed = {"peer.service", "http.request.method", "http.response.status_code", "error.type"}
    by_status = {p.attributes["http.response.status_code"]: dict(p.attributes) for p in points}
    assert set(by_status) == {200, 404}
    assert by_status[404] == {
        "peer.service": "billing",
        "http.request.method": "GET",
        "http.response.status_code": 404,
        "error.type": "404",
    }
    for attributes in by_status.values():
        assert set(attributes) <= allowed
        assert not any("/" in str(value) for value in attributes.values())


def test_failures_are_counted_by_kind(third_party: AppProcess, telemetry: Telemetry) -> None:
    """otel_distro.external_http.failures counts 4xx, 5xx, timeouts and connect errors."""
    with create_external_client(
        "billing", third_party.base_url, timeout=0.2, **telemetry.providers
    ) as client:
        client.get("/status/404")
        client.get("/status/500")
        with pytest.raises(httpx.ReadTimeout):
            client.get("/slow", params={"seconds": "3"})
        with pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{closed_port()}/x")
        client.get("/echo")
    counts = {
        p.attributes["error.type"]: p.value
        for p in telemetry.points("otel_distro.external_http.failures")
    }
    assert counts == {"4xx": 1, "5xx": 1, "timeout": 1, "connect": 1}


def test_traceparent_goes_out_with_the_call_span_ids(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """The third party receives the W3C trace context of the call's span."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        received = client.get("/echo").json()["headers"]
    [span] = telemetry.spans()
    _, trace_id, span_id, _ = received["traceparent"].split("-")
    assert (trace_id, span_id) == (
        format_trace_id(span.context.trace_id),
        format_span_id(span.context.span_id),
    )


def with_baggage(client: httpx.Client) -> dict[str, str]:
    token = context.attach(baggage.set_baggage("tenant.id", "team-" + secrets.token_hex(4)))
    try:
        return dict(client.get("/echo").json()["headers"])
    finally:
        context.detach(token)


def test_baggage_is_never_sent_to_a_host_outside_propagate_to(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the stand-in host not allowed, the third party gets traceparent but no baggage."""
    configure(monkeypatch, OTEL_DISTRO_BAGGAGE_PROPAGATE_TO="*.internal")
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        received = with_baggage(client)
    assert "traceparent" in received
    assert "baggage" not in received


def test_baggage_reaches_an_allowed_internal_host(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """Loopback is allowed by default, so an internal service does get the baggage."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        received = with_baggage(client)
    assert received["baggage"].startswith("tenant.id=team-")


def test_a_baggage_signature_is_sent_but_never_recorded(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With signing keys, an internal host gets the signed tenant; the record shows the
    baggage header with the signature's value masked (it vouches for the tenant)."""
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from otel_distro import set_tenant
    from otel_distro.config import get_settings
    from otel_distro.propagation import TrustedBaggagePropagator

    configure(monkeypatch, OTEL_DISTRO_BAGGAGE_SIGNING_KEYS=f"k1:{secrets.token_urlsafe(32)}")
    saved = propagate.get_global_textmap()
    propagate.set_global_textmap(
        CompositePropagator(
            [TraceContextTextMapPropagator(), TrustedBaggagePropagator(get_settings())]
        )
    )
    try:
        with (
            create_external_client(
                "billing", third_party.base_url, **telemetry.providers
            ) as client,
            set_tenant(tenant_id="team-a", user_id="user-1"),
        ):
            received = client.get("/echo").json()["headers"]["baggage"]
    finally:
        propagate.set_global_textmap(saved)
    [signature] = [
        m.split("=", 1)[1] for m in received.split(",") if m.startswith("otel_distro.sig=")
    ]
    mac = signature.rsplit(".", 1)[1]
    _, fields = only_record(telemetry)
    recorded = fields["http.request.header.baggage"]
    assert "tenant.id=team-a" in recorded
    assert "otel_distro.sig=REDACTED" in recorded
    assert mac not in telemetry.everything()


def test_a_timeout_is_always_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """No timeout given (or None) means EXTERNAL_HTTP_TIMEOUT_SECONDS, never 'wait forever'."""
    configure(monkeypatch, EXTERNAL_HTTP_TIMEOUT_SECONDS="2.5")
    with create_external_client("billing", "https://api.example.com") as client:
        assert client.timeout == httpx.Timeout(2.5)
    partial = httpx.Timeout(None, connect=1.0)
    with create_external_client("billing", "https://api.example.com", timeout=partial) as client:
        assert client.timeout == httpx.Timeout(2.5, connect=1.0)
    with create_external_client("billing", "https://api.example.com", timeout=4) as client:
        assert client.timeout == httpx.Timeout(4)


def test_a_per_request_timeout_none_still_times_out(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``timeout=None`` on one call falls back to the default instead of disabling it."""
    configure(monkeypatch, EXTERNAL_HTTP_TIMEOUT_SECONDS="0.2")
    with (
        create_external_client("billing", third_party.base_url, **telemetry.providers) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/slow", params={"seconds": "3"}, timeout=None)


def test_a_per_request_timeout_with_a_none_part_still_times_out(
    third_party: AppProcess, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``timeout=httpx.Timeout(5, read=None)`` on one call: the read gets the default too."""
    configure(monkeypatch, EXTERNAL_HTTP_TIMEOUT_SECONDS="0.2")
    with (
        create_external_client("billing", third_party.base_url, **telemetry.providers) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/slow", params={"seconds": "3"}, timeout=httpx.Timeout(5.0, read=None))


@pytest.mark.parametrize(
    "bad",
    ["api.stripe.com", "ftp://files.example.com", "https://", "//api.example.com", "http://[::1"],
)
def test_a_malformed_base_url_is_a_value_error_naming_it(bad: str) -> None:
    """The app's own mistake is raised at construction, with the value in the message."""
    with pytest.raises(ValueError, match="base_url") as caught:
        create_external_client("billing", bad)
    assert repr(bad) in str(caught.value)


def test_the_value_error_never_shows_credentials_of_the_base_url() -> None:
    """A bad base_url with userinfo is named redacted."""
    password = secrets.token_hex(8)
    with pytest.raises(ValueError, match="base_url") as caught:
        create_external_client("billing", f"ftp://deploy:{password}@files.example.com")
    assert password not in str(caught.value)


@pytest.mark.parametrize("service", ["", "   ", None, "x" * 200])
def test_a_missing_or_unbounded_service_name_is_refused(service: Any) -> None:
    """peer.service is a metric attribute: it must be a short, non-empty name."""
    with pytest.raises(ValueError, match="service"):
        create_external_client(service, "https://api.example.com")


def test_the_async_client_records_the_same_span_and_record(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """The async twin gives one CLIENT span and one record per call."""

    async def main() -> int:
        async with create_external_async_client(
            "stripe", third_party.base_url, timeout=10.0, **telemetry.providers
        ) as client:
            response = await client.post("/echo/v1/charges", json={"amount": 1000})
            return response.status_code

    assert asyncio.run(main()) == 200
    [span] = telemetry.spans()
    assert dict(span.attributes or {})["peer.service"] == "stripe"
    level, fields = only_record(telemetry)
    assert (level, fields["peer.service"], fields["http.response.status_code"]) == (
        "info",
        "stripe",
        200,
    )


def test_calls_are_not_recorded_twice_when_httpx_is_instrumented(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """Under the httpx instrumentation a factory call still makes one span, one record."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    hook_calls: list[Any] = []
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        response_hook=lambda *args: hook_calls.append(args),
    )
    try:
        with create_external_client(
            "billing", third_party.base_url, **telemetry.providers
        ) as client:
            client.get("/echo")
        with httpx.Client(base_url=third_party.base_url) as plain:
            plain.get("/echo")
    finally:
        instrumentor.uninstrument()
    kinds = [span.kind for span in telemetry.spans()]
    assert kinds == [SpanKind.CLIENT, SpanKind.CLIENT]  # one each: factory and plain client
    assert len(telemetry.records) == 1
    assert len(hook_calls) == 1  # only the plain client went through the instrumentor


def test_the_client_reports_its_service() -> None:
    """``client.service`` is the peer.service its calls carry."""
    with create_external_client("geo", "http://127.0.0.1:9") as client:
        assert client.service == "geo"


def test_concurrent_async_calls_keep_their_own_spans_and_restore_the_context(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """20 calls at once under one parent: 20 child spans, each with its own traceparent out."""
    tracer = telemetry.tracer_provider.get_tracer("test")

    async def main() -> tuple[list[str], bool]:
        with tracer.start_as_current_span("parent") as parent:
            async with create_external_async_client(
                "billing", third_party.base_url, **telemetry.providers
            ) as client:
                answers = await asyncio.gather(*(client.get("/echo") for _ in range(20)))
            restored = trace.get_current_span() is parent
        return [a.json()["headers"]["traceparent"] for a in answers], restored

    sent, restored = asyncio.run(main())
    assert restored
    spans = telemetry.spans()
    parent = next(span for span in spans if span.name == "parent")
    children = [span for span in spans if span.kind is SpanKind.CLIENT]
    assert len(children) == 20
    assert all(span.parent.span_id == parent.context.span_id for span in children)
    assert {value.split("-")[2] for value in sent} == {
        format_span_id(span.context.span_id) for span in children
    }


def test_a_cancelled_call_is_a_warning_and_not_a_failure_of_the_third_party(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """The app giving up (a cancelled task) reaches the app unchanged; the record says
    cancelled at warning, the span has no error status and no failure is counted."""

    async def main() -> None:
        async with create_external_async_client(
            "billing", third_party.base_url, **telemetry.providers
        ) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.get("/slow", params={"seconds": "3"}), 0.2)

    asyncio.run(main())
    level, fields = only_record(telemetry)
    assert (level, fields["error.type"], fields["otel_distro.failure"]) == (
        "warning",
        "CancelledError",
        "cancelled",
    )
    [span] = telemetry.spans()
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {})["error.type"] == "CancelledError"
    assert not [event for event in span.events if event.name == "exception"]
    assert telemetry.points("otel_distro.external_http.failures") == []
