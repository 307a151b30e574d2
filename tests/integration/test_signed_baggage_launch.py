"""Signed baggage between two real ``opentelemetry-instrument uvicorn`` services on loopback.

Service A sets the tenant and calls service B with httpx; neither trusts any peer
address (``OTEL_DISTRO_TRUSTED_PEERS`` is empty), so only the signature carries the
tenant.  A client talking to B directly forges every kind of header and gets no tenant,
and B's server span names the reason in a ``security.violation`` event.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otel_distro.baggage_signing import Keyring
from otel_distro.config._signing_keys import parse_signing_keys
from tests.support import AppProcess, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

APP = "tests.integration.signed_app:app"
OLD = secrets.token_urlsafe(32)
NEW = secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


def _launch(capture: OtlpCapture, name: str, keys: str, **env: str) -> Any:
    return launch_app(
        APP,
        capture=capture,
        env={"OTEL_SERVICE_NAME": name, "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": keys, **env},
    )


@pytest.fixture(scope="module")
def service_b(capture: OtlpCapture) -> Iterator[AppProcess]:
    with _launch(capture, "svc-b", f"k1:{OLD},k2:{NEW}") as process:
        yield process


@pytest.fixture(scope="module")
def service_a(capture: OtlpCapture, service_b: AppProcess) -> Iterator[AppProcess]:
    with _launch(capture, "svc-a", f"k1:{OLD}", SIGNED_DOWNSTREAM_URL=service_b.base_url) as a:
        yield a


def _server_span(capture: OtlpCapture, trace_id: str, parent: str | None = None) -> Any:
    def find() -> list[Any]:
        return [
            s
            for s in capture.spans(kind="SERVER", trace_id=trace_id)
            if s.resource.get("service.name") == "svc-b"
            and s.name.startswith("GET /whoami")
            and (parent is None or s.parent_span_id == parent)
        ]

    return capture.wait_for(find, message=f"B's server span of trace {trace_id}")[0]


def _violations(span: Any) -> list[dict[str, Any]]:
    """The reason each security event of the span names (the events carry more, never values)."""
    return [
        {"violation": e.attributes["violation"]}
        for e in span.events
        if e.name == "security.violation"
    ]


def _traceparent() -> tuple[str, str, str]:
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{parent}-01", trace_id, parent


@pytest.fixture(scope="module")
def genuine(service_a: AppProcess) -> dict[str, Any]:
    """What B received from A for one call: its answer, including the raw headers."""
    tenant = f"t-{secrets.token_hex(4)}"
    answer: dict[str, Any] = service_a.client().get("/call", params={"tenant": tenant}).json()
    answer["sent_tenant"] = tenant
    return answer


def test_tenant_set_in_a_arrives_in_b(genuine: dict[str, Any]) -> None:
    """B's request sees the tenant and user A set, with no trusted peer at all."""
    assert (genuine["tenant"], genuine["user"]) == (genuine["sent_tenant"], "u-1")
    assert "otel_distro.sig=v1.k1." in genuine["baggage"]


def test_tenant_set_in_a_is_on_b_spans_and_logs(
    genuine: dict[str, Any], capture: OtlpCapture
) -> None:
    """B's server span and B's log record carry A's tenant; B raises no violation."""
    trace_id = genuine["traceparent"].split("-")[1]
    span = _server_span(capture, trace_id)
    assert span.attributes["tenant.id"] == genuine["sent_tenant"]
    assert _violations(span) == []

    def b_logs() -> list[Any]:
        return [
            r
            for r in capture.logs(trace_id=trace_id)
            if r.body == "whoami served" and r.resource.get("service.name") == "svc-b"
        ]

    record = capture.wait_for(b_logs, message="B's log record")[0]
    assert record.attributes["tenant.id"] == genuine["sent_tenant"]


def test_signature_is_never_an_attribute(genuine: dict[str, Any], capture: OtlpCapture) -> None:
    """No span or log record of either service holds the signature entry or its value."""
    trace_id = genuine["traceparent"].split("-")[1]
    _server_span(capture, trace_id)
    token = next(
        item.split("=", 1)[1]
        for item in genuine["baggage"].split(",")
        if item.startswith("otel_distro.sig=")
    )
    records = [*capture.spans(trace_id=trace_id), *capture.logs(trace_id=trace_id)]
    assert records
    for record in records:
        text = repr(record.attributes)
        assert "otel_distro.sig" not in text and token not in text


def _forge(case: str, genuine: dict[str, Any]) -> tuple[dict[str, str], str, str]:
    """Headers a client without A's cooperation sends to B, and B's expected span ids."""
    traceparent, trace_id, parent = _traceparent()
    forged_tenant = f"evil-{secrets.token_hex(4)}"
    protected = {"tenant.id": forged_tenant, "user.id": "u-1"}
    entries = f"tenant.id={forged_tenant},user.id=u-1"
    if case == "no_key":
        baggage = entries
    elif case in ("wrong_key", "unknown_kid", "expired"):
        kid, secret = {
            "wrong_key": ("k1", secrets.token_urlsafe(32)),
            "unknown_kid": ("k7", secrets.token_urlsafe(32)),
            "expired": ("k1", OLD),  # the real key, but a signature made an hour ago
        }[case]
        now = time.time() - 3600 if case == "expired" else None
        token = Keyring(parse_signing_keys(f"{kid}:{secret}")).sign(
            protected, int(trace_id, 16), now=now
        )
        baggage = f"{entries},otel_distro.sig={token}"
    elif case == "modified_tenant":
        original = f"tenant.id={genuine['sent_tenant']}"
        baggage = genuine["baggage"].replace(original, f"tenant.id={forged_tenant}")
        trace_id = genuine["traceparent"].split("-")[1]  # same trace, a new parent span
        traceparent = f"00-{trace_id}-{parent}-01"
    else:  # copied_signature: A's genuine header on a trace of the attacker's choosing
        baggage = genuine["baggage"]
    return {"traceparent": traceparent, "baggage": baggage}, trace_id, parent


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no_key", "missing"),
        ("wrong_key", "bad_mac"),
        ("modified_tenant", "bad_mac"),
        ("copied_signature", "wrong_trace"),
        ("expired", "expired"),
        ("unknown_kid", "unknown_kid"),
    ],
)
def test_forged_header_sets_no_tenant_and_names_its_reason(
    case: str,
    reason: str,
    service_b: AppProcess,
    genuine: dict[str, Any],
    capture: OtlpCapture,
) -> None:
    """B sees no tenant; its span has no tenant, the violation attribute and one event with
    the reason; B's WARNING record names the client address and echoes no baggage value."""
    headers, trace_id, parent = _forge(case, genuine)
    answer = httpx.get(f"{service_b.base_url}/whoami", headers=headers, timeout=10).json()
    assert answer["tenant"] is None and answer["user"] is None
    span = _server_span(capture, trace_id, parent)
    assert "tenant.id" not in span.attributes
    assert _violations(span) == [{"violation": f"baggage_signature_{reason}"}]
    assert span.attributes["otel_distro.security.violation"] == f"baggage_signature_{reason}"
    (record,) = capture.wait_for(
        lambda: [
            r
            for r in capture.logs(body="security_violation", trace_id=trace_id)
            if r.span_id == span.span_id
        ],
        message="B's security_violation record",
    )
    assert record.severity_text == "WARN"
    assert record.attributes["violation"] == f"baggage_signature_{reason}"
    assert record.attributes["client.address"] == "127.0.0.1"
    assert record.attributes["url.path"] == "/whoami"
    shown = repr(record.attributes)
    assert "evil-" not in shown and genuine["sent_tenant"] not in shown and "v1." not in shown


def test_key_rotation_new_key_listed_second_by_b(
    capture: OtlpCapture, service_b: AppProcess
) -> None:
    """A signing with the new key (old one second) still reaches B, which lists it second."""
    tenant = f"t-{secrets.token_hex(4)}"
    with _launch(
        capture, "svc-a2", f"k2:{NEW},k1:{OLD}", SIGNED_DOWNSTREAM_URL=service_b.base_url
    ) as a2:
        answer = a2.client().get("/call", params={"tenant": tenant}).json()
    assert answer["tenant"] == tenant
    assert "otel_distro.sig=v1.k2." in answer["baggage"]
    span = _server_span(capture, answer["traceparent"].split("-")[1])
    assert span.attributes["tenant.id"] == tenant and _violations(span) == []


def test_short_key_is_reported_at_startup_by_kid(capture: OtlpCapture) -> None:
    """A key under 32 bytes is named (never shown) on stderr at startup; the app serves."""
    short = secrets.token_hex(6)
    with _launch(capture, "svc-weak", f"weak:{short},k1:{OLD}") as app:
        assert app.client().get("/health").status_code == 200
        err = app.stderr_text()
    assert "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS" in err and "'weak'" in err
    assert short not in err and OLD not in err
