"""The contrib server metrics carry no attribute a client chooses (the Host header)."""

from __future__ import annotations

from opentelemetry.instrumentation.asgi import (
    _parse_active_request_count_attrs,
    _parse_duration_attrs,
    collect_request_attributes,
)

from otel_distro._metric_bounds import CLIENT_CHOSEN, bound_server_metric_attributes


def _scope(host: bytes) -> dict[str, object]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/x",
        "query_string": b"",
        "headers": [(b"host", host), (b"user-agent", b"a")],
        "server": ("127.0.0.1", 8000),
        "client": ("192.0.2.1", 1234),
    }


def test_the_host_header_is_a_span_attribute_but_no_metric_attribute() -> None:
    """After the distro's setup (idempotent), the duration and active-request attributes
    of a request lose ``http.server_name`` and keep the server's own address."""
    bound_server_metric_attributes()
    bound_server_metric_attributes()
    attributes = collect_request_attributes(_scope(b"evil-1.example"))
    assert attributes["http.server_name"] == "evil-1.example"  # spans keep it
    for metric in (
        _parse_duration_attrs(attributes),
        _parse_active_request_count_attrs(attributes),
    ):
        assert not set(CLIENT_CHOSEN) & set(metric)
        assert metric["http.method"] == "GET" and metric["http.host"] == "127.0.0.1:8000"


def test_distinct_hosts_give_one_attribute_set() -> None:
    """A thousand Host headers: one set of metric attributes."""
    bound_server_metric_attributes()
    sets = {
        frozenset(
            _parse_duration_attrs(collect_request_attributes(_scope(f"h{n}".encode()))).items()
        )
        for n in range(1000)
    }
    assert len(sets) == 1
