"""The direct OTLP log encoder writes exactly the stock encoder's bytes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import TraceFlags

from otel_distro.exporters._otlp_logs import (
    encode_logs_request,
    restore_log_encoder,
    use_fast_log_encoder,
)
from tests.support import OtlpCapture

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | text
    | st.binary(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(text, inner, max_size=3)
    ),
    max_leaves=8,
)
attributes = st.dictionaries(text, values, max_size=6)


@st.composite
def records(draw: st.DrawFn) -> ReadableLogRecord:
    record = LogRecord(
        timestamp=draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
        observed_timestamp=draw(st.integers(min_value=1, max_value=2**64 - 1)),
        severity_number=draw(st.none() | st.sampled_from(list(SeverityNumber))),
        severity_text=draw(st.none() | text),
        body=draw(values),
        attributes=draw(attributes),
        event_name=draw(st.none() | text),
    )
    record.trace_id = draw(st.integers(min_value=0, max_value=2**128 - 1))
    record.span_id = draw(st.integers(min_value=0, max_value=2**64 - 1))
    record.trace_flags = TraceFlags(draw(st.sampled_from([0, 1])))
    resource = Resource(
        draw(st.sampled_from([{}, {"service.name": "a"}, {"service.name": "b"}])),
        draw(st.none() | st.just("https://schema/1")),
    )
    scope = draw(
        st.none()
        | st.builds(
            InstrumentationScope,
            st.sampled_from(["", "x", "otel_distro.logging"]),
            st.none() | st.just("1.0"),
            st.none() | st.just("https://s/2"),
        )
    )
    return ReadableLogRecord(log_record=record, resource=resource, instrumentation_scope=scope)


@given(st.lists(records(), max_size=6))
def test_bytes_equal_the_stock_encoder(batch: list[ReadableLogRecord]) -> None:
    """Any batch (values, ids, flags, resources, scopes) encodes to the stock bytes."""
    assert encode_logs_request(batch) == encode_logs(batch).SerializeToString()


def _one(attrs: dict[str, Any], body: Any = "b") -> list[ReadableLogRecord]:
    record = LogRecord(timestamp=1, body=body, attributes=attrs)
    return [ReadableLogRecord(log_record=record, resource=Resource({}))]


def test_out_of_range_integers_are_skipped_like_stock() -> None:
    """An attribute the stock encoder rejects (int beyond int64) is skipped the same way."""
    batch = _one({"big": 2**70, "ok": 1})
    assert encode_logs_request(batch) == encode_logs(batch).SerializeToString()


def test_special_floats_match() -> None:
    """NaN, infinities and -0.0 encode to the same bits."""
    batch = _one({"nan": math.nan, "inf": math.inf, "neg": -math.inf, "zero": -0.0})
    assert encode_logs_request(batch) == encode_logs(batch).SerializeToString()


@pytest.fixture
def fast_encoder() -> Iterator[None]:
    assert use_fast_log_encoder()
    yield
    restore_log_encoder()


def test_http_exporter_sends_with_the_fast_encoder(fast_encoder: None) -> None:
    """With ``use_fast_log_encoder()`` the OTLP/HTTP exporter's requests decode normally."""
    with OtlpCapture() as capture:
        exporter = OTLPLogExporter(endpoint=f"{capture.endpoint}/v1/logs")
        exporter.export(_one({"site_id": 7}, body="site_created"))
        exporter.shutdown()
        logs = capture.logs()
    assert [(log.body, log.attributes["site_id"]) for log in logs] == [("site_created", 7)]


@pytest.mark.usefixtures("production_mode")
def test_unexpected_encoder_failure_falls_back_to_stock(
    fast_encoder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the fast path ever fails, the stock encoder produces the request instead."""
    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    from otel_distro.exporters import _otlp_logs as _otlp

    def broken(batch: Any) -> bytes:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(_otlp, "encode_logs_request", broken)
    batch = _one({"k": "v"})
    encoded = _log_exporter.encode_logs(batch)
    assert encoded.SerializeToString() == encode_logs(batch).SerializeToString()


@pytest.mark.usefixtures("production_mode")
def test_a_fast_path_failure_is_counted_as_an_internal_error(
    fast_encoder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct encoder failing where the stock one succeeds is counted, once per batch."""
    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    from otel_distro._report import internal_error_counts
    from otel_distro.exporters import _otlp_logs as _otlp

    def broken(batch: Any) -> bytes:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(_otlp, "encode_logs_request", broken)
    _log_exporter.encode_logs(_one({"k": "v"}))
    _log_exporter.encode_logs(_one({"k": "w"}))
    assert internal_error_counts() == {"exporters.otlp_logs": 2}


def test_the_exporter_encodes_logs_in_slices(
    fast_encoder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patched encoder offers the GIL between slices of records; the bytes stay stock's."""
    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    from otel_distro.exporters import _slices

    offers: list[float] = []
    monkeypatch.setattr(_slices.time, "sleep", offers.append)
    batch = [record for n in range(50) for record in _one({"n": n})]
    data = _log_exporter.encode_logs(batch).SerializeToString()
    assert len(offers) == -(-50 // _slices.SLICE) - 1
    assert data == encode_logs(batch).SerializeToString()
