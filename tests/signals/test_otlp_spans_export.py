"""The OTLP/HTTP span exporter with the direct encoder: what it sends, its fallback, its slices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import trace_exporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, SpanKind

from otel_distro import _state
from otel_distro._report import internal_error_counts
from otel_distro.exporters import _otlp_spans, _slices
from otel_distro.exporters._otlp_spans import restore_span_encoder, use_fast_span_encoder
from otel_distro.exporters.redacting import RedactingSpanExporter
from otel_distro.redaction import Redactor
from tests.support import OtlpCapture

RESOURCE = Resource({"service.name": "svc"})


def _spans(count: int, **attributes: Any) -> list[ReadableSpan]:
    return [
        ReadableSpan(
            f"GET /items/{n}",
            SpanContext(0xABC, n + 1, False),
            kind=SpanKind.SERVER,
            resource=RESOURCE,
            attributes={"n": n, **attributes},
            start_time=1,
            end_time=2,
        )
        for n in range(count)
    ]


@pytest.fixture
def fast_encoder() -> Iterator[None]:
    assert use_fast_span_encoder()
    yield
    restore_span_encoder()


def test_the_exporter_sends_the_stock_bytes_with_the_fast_encoder(fast_encoder: None) -> None:
    """With ``use_fast_span_encoder()`` the request body is what the stock encoder writes."""
    batch = _spans(40, password="hunter2")
    with OtlpCapture() as capture:
        exporter = OTLPSpanExporter(endpoint=f"{capture.endpoint}/v1/traces")
        assert exporter.export(batch) is SpanExportResult.SUCCESS
        exporter.shutdown()
        (received,) = capture.received("traces")
        spans = capture.spans()
    assert received.body == encode_spans(batch).SerializeToString()
    assert [s.attributes["n"] for s in spans] == list(range(40))


def test_reset_puts_the_stock_span_encoder_back() -> None:
    """The OTLP/HTTP exporter's patched encoder is restored by the reset."""
    stock = trace_exporter.encode_spans
    assert use_fast_span_encoder()
    assert trace_exporter.encode_spans is not stock
    _state.reset()
    assert trace_exporter.encode_spans is stock


def _broken(spans: Any) -> bytes:
    raise RuntimeError("unexpected")


@pytest.mark.usefixtures("production_mode")
def test_a_fast_path_failure_falls_back_to_stock_and_is_counted(
    fast_encoder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the direct encoder ever fails, the stock one encodes the batch; each failure counts."""
    monkeypatch.setattr(_otlp_spans, "_request", _broken)
    batch = _spans(3)
    encoded = trace_exporter.encode_spans(batch)
    assert encoded.SerializePartialToString() == encode_spans(batch).SerializeToString()
    trace_exporter.encode_spans(_spans(1))
    assert internal_error_counts() == {"exporters.otlp_spans": 2}


@pytest.mark.usefixtures("production_mode")
def test_a_batch_the_stock_encoder_refuses_too_fails_the_export_as_before(
    fast_encoder: None,
) -> None:
    """A span no encoder can write (an id out of range): the export fails as with stock."""
    batch = [ReadableSpan("bad", SpanContext(2**128, 1, False), resource=RESOURCE)]
    exporter = OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")
    assert exporter.export(batch) is SpanExportResult.FAILURE
    exporter.shutdown()
    assert internal_error_counts() == {}  # the stock encoder refused it as well: not ours


# --- slices -------------------------------------------------------------------------


class _Recorder(SpanExporter):
    def __init__(self) -> None:
        self.batches: list[list[ReadableSpan]] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.batches.append(list(spans))
        return SpanExportResult.SUCCESS


@pytest.fixture
def offers(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each time the export work offered the GIL (``time.sleep``), with what argument."""
    calls: list[float] = []
    monkeypatch.setattr(_slices.time, "sleep", calls.append)
    return calls


def test_sliced_hands_on_every_item_and_offers_the_gil_between_slices(
    offers: list[float],
) -> None:
    seen = []
    for item in _slices.sliced(range(10), 4):
        seen.append((item, len(offers)))
    assert seen == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1), (7, 1), (8, 2), (9, 2)]
    assert offers == [0, 0]


def test_redaction_offers_the_gil_between_slices_and_exports_the_same(
    offers: list[float],
) -> None:
    """A 512-span batch is redacted in slices; the exported batch is unchanged by them."""
    batch = _spans(512, password="hunter2")
    inner = _Recorder()
    RedactingSpanExporter(inner, Redactor()).export(batch)
    (exported,) = inner.batches
    assert len(offers) == 512 // _slices.SLICE - 1
    assert [s.context.span_id for s in exported] == [s.context.span_id for s in batch]
    assert all(s.attributes["password"] != "hunter2" for s in exported)


def test_the_exporter_encodes_in_slices(fast_encoder: None, offers: list[float]) -> None:
    """The patched encoder offers the GIL between slices and still writes the stock bytes."""
    batch = _spans(100)
    data = trace_exporter.encode_spans(batch).SerializePartialToString()
    assert len(offers) == -(-100 // _slices.SLICE) - 1
    assert data == encode_spans(batch).SerializeToString()


def test_log_redaction_offers_the_gil_between_slices_and_exports_the_same(
    offers: list[float],
) -> None:
    """The redacting log exporter works in slices too; every record comes out redacted."""
    from opentelemetry._logs import LogRecord
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

    from otel_distro.exporters.redacting import RedactingLogRecordExporter

    batch = [
        ReadableLogRecord(
            LogRecord(timestamp=n + 1, body="b", attributes={"password": "hunter2", "n": n}),
            resource=RESOURCE,
        )
        for n in range(40)
    ]
    memory = InMemoryLogRecordExporter()
    RedactingLogRecordExporter(memory, Redactor()).export(batch)
    exported = memory.get_finished_logs()
    assert len(offers) == -(-40 // _slices.SLICE) - 1
    assert [r.log_record.timestamp for r in exported] == list(range(1, 41))
    assert all(r.log_record.attributes["password"] != "hunter2" for r in exported)
