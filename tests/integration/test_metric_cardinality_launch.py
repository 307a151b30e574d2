"""Hostile requests cannot grow the number of metric points: every instrument stays bounded.

The SDK (1.45.2) keeps at most 2,000 attribute sets per instrument; past that, new
measurements are lumped into one ``otel.metric.overflow`` point, and the real
breakdown is lost for everyone.  A real ``opentelemetry-instrument uvicorn`` app gets
requests that each differ in everything a client chooses (path, Host, method, query,
forwarded addresses, trace context, credentials); the number of points of every metric
it exports must not depend on how many such requests it served, with the older HTTP
conventions (the default) and with both (``OTEL_SEMCONV_STABILITY_OPT_IN=http/dup``).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest

from examples.panel.tokens import make_token
from tests.support import AppProcess, CapturedMetricPoint, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

#: Distinct hostile requests per round; two rounds, the second must add no point.
ROUND = 150
#: Far below the SDK's 2,000: every attribute of every instrument comes from a closed set.
MOST_POINTS_PER_METRIC = 60
OVERFLOW = "otel.metric.overflow"


@pytest.fixture
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


@pytest.fixture(params=["default", "http/dup"])
def app(request: pytest.FixtureRequest, capture: OtlpCapture) -> Iterator[AppProcess]:
    """The demo app, with the older HTTP conventions (the default) or both."""
    env = {"ENVIRONMENT": "production", "OTEL_METRIC_EXPORT_INTERVAL": "500"}
    if request.param != "default":
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = request.param
    with launch_app(capture=capture, env=env) as running:
        yield running


def _hostile(client: httpx.Client, n: int) -> None:
    """One request in which everything the client chooses is new."""
    tag = secrets.token_hex(6)
    headers = {
        "host": f"h{tag}.example",
        "x-forwarded-for": f"10.{n % 250}.{n // 250 % 250}.{n % 7}",
        "forwarded": f"for=192.0.2.{n % 250};host=f{tag}.example",
        "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-0{n % 2}",
        "baggage": f"tenant.id=t{tag},user.id=u{tag}",
        "user-agent": f"agent/{tag}",
        "x-request-id": tag,
    }
    kind = n % 5
    if kind == 0:  # an unmatched path
        client.get(f"/no/such/{tag}?q={tag}", headers=headers)
    elif kind == 1:  # a made-up method
        client.request(f"X{tag.upper()}", f"/{tag}", headers=headers)
    elif kind == 2:  # a matched route with a new parameter and a bad token
        headers["authorization"] = f"Bearer not.a.{tag}"
        client.get(f"/sites/{n}/status", headers=headers)
    elif kind == 3:  # a valid token for a new tenant and user
        headers["authorization"] = f"Bearer {make_token(f'u{tag}', f't{tag}')}"
        client.get(f"/sites/{tag}", headers=headers)
    else:  # an outbound call made for a request
        client.post("/echo-log", json={"note": tag}, headers=headers)


def _attribute_sets(capture: OtlpCapture) -> dict[str, set[frozenset[tuple[str, str]]]]:
    found: dict[str, set[frozenset[tuple[str, str]]]] = defaultdict(set)
    point: CapturedMetricPoint
    for point in capture.metrics():
        found[point.name].add(frozenset((k, repr(v)) for k, v in point.attributes.items()))
    return found


def _after_round(app: AppProcess, capture: OtlpCapture, first: int) -> dict[str, int]:
    with app.client() as client:
        for n in range(first, first + ROUND):
            _hostile(client, n)
    served = len(capture.received("metrics"))
    capture.wait_for(
        lambda: len(capture.received("metrics")) >= served + 2,
        message="two metric exports after the round",
    )
    return {name: len(sets) for name, sets in _attribute_sets(capture).items()}


def test_metric_points_stay_bounded_under_hostile_requests(
    app: AppProcess, capture: OtlpCapture
) -> None:
    """After ROUND and 2 x ROUND distinct hostile requests: the second round adds (almost)
    no point to any metric, each stays far below the SDK's limit, and no overflow point.

    A member of a closed set first seen in the second round (a status code or error type
    that a slow machine makes) may add a point or two; a client-chosen attribute adds
    about one per request (measured: 121, then 241 points per server metric)."""
    first = _after_round(app, capture, 0)
    second = _after_round(app, capture, ROUND)
    assert "http.server.duration" in second or "http.server.request.duration" in second
    grown = {k: (first.get(k, 0), v) for k, v in second.items() if v != first.get(k, 0)}
    assert all(after - before < ROUND // 10 for before, after in grown.values()), grown
    assert max(second.values()) <= MOST_POINTS_PER_METRIC, second
    overflowed = {p.name for p in capture.metrics() if OVERFLOW in p.attributes}
    assert overflowed == set()
