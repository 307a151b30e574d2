"""The OpenTelemetry side: spans, logs, metrics, headers and baggage go through the engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricsData,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.http import SanitizeValue

from otel_distro._names import REPORT_ATTRIBUTE
from otel_distro._signal_redaction import observe_redactions, redact_attributes
from otel_distro.config import reset_settings
from otel_distro.exporters.redacting import (
    RedactingLogRecordExporter,
    RedactingMetricExporter,
    RedactingSpanExporter,
)
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.redaction import REDACTED, SENSITIVE_HEADERS, Redactor, reset_redactor
from tests.support.metrics import MetricsCapture

RESOURCE = Resource.create({"service.name": "svc", "process.command_line": "app --password=pw1"})


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    reset_settings()
    reset_redactor()
    yield
    reset_redactor()


def _spans(
    exporter: RedactingSpanExporter | None = None, **limits: Any
) -> tuple[trace_api.Tracer, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, span_limits=SpanLimits(**limits))
    provider.add_span_processor(SimpleSpanProcessor(exporter or RedactingSpanExporter(memory)))
    return provider.get_tracer("test"), memory


def _one_span(**kwargs: Any) -> ReadableSpan:
    tracer, memory = _spans()
    with tracer.start_as_current_span("op", **kwargs):
        pass
    (span,) = memory.get_finished_spans()
    return span


# --- spans -----------------------------------------------------------------------


def test_span_attributes_are_redacted() -> None:
    """Sensitive attributes are replaced in the exported span."""
    span = _one_span(attributes={"password": "pw1", "http.route": "/x"})
    assert span.attributes is not None
    assert span.attributes["password"] == REDACTED and span.attributes["http.route"] == "/x"


def test_span_name_is_redacted() -> None:
    """Secrets in the span name (e.g. a raw target) are replaced."""
    tracer, memory = _spans()
    with tracer.start_as_current_span("GET /cb?token=tok1"):
        pass
    assert memory.get_finished_spans()[0].name == f"GET /cb?token={REDACTED}"


def test_status_description_and_exception_event_are_redacted() -> None:
    """An exception's message is redacted in the status and in its event."""
    tracer, memory = _spans()
    with pytest.raises(ValueError), tracer.start_as_current_span("op"):
        raise ValueError("bad password=pw1")
    span = memory.get_finished_spans()[0]
    event = span.events[0].attributes or {}
    assert span.status.description == f"ValueError: bad password={REDACTED}"
    assert event["exception.message"] == f"bad password={REDACTED}"
    assert "pw1" not in str(event["exception.stacktrace"])


def test_link_attributes_are_redacted() -> None:
    """Link attributes are rebuilt too."""
    ctx = trace_api.SpanContext(1, 2, is_remote=False)
    span = _one_span(links=[trace_api.Link(ctx, {"api_key": "k1"})])
    assert (span.links[0].attributes or {})["api_key"] == REDACTED


def test_resource_attributes_are_redacted() -> None:
    """``process.command_line`` on the resource loses its secret."""
    span = _one_span()
    assert span.resource.attributes["process.command_line"] == f"app --password={REDACTED}"


def test_redacted_resource_is_shared_between_spans() -> None:
    """The resource is redacted once and reused for every span."""
    tracer, memory = _spans()
    for _ in range(2):
        with tracer.start_as_current_span("op"):
            pass
    first, second = memory.get_finished_spans()
    assert first.resource is second.resource


def test_report_attribute_names_rules_and_paths() -> None:
    """The span carries ``otel_distro.redacted`` with rule:path entries."""
    span = _one_span(attributes={"password": "pw1", "q": "sig=x"})
    assert (span.attributes or {})[REPORT_ATTRIBUTE] == ("password:password",)


def test_clean_span_has_no_report_attribute() -> None:
    """Nothing redacted, no report attribute."""
    span = _one_span(attributes={"http.route": "/x"})
    assert REPORT_ATTRIBUTE not in (span.attributes or {})


def test_dropped_counts_survive_the_rebuild() -> None:
    """Attribute limits applied by the SDK are still visible after redaction."""
    tracer, memory = _spans(max_span_attributes=1)
    with tracer.start_as_current_span("op", attributes={"a": 1, "b": 2}):
        pass
    assert memory.get_finished_spans()[0].dropped_attributes == 1


class _BrokenRedactor(Redactor):
    def redact_text(self, text: str, **kwargs: Any) -> str:
        raise RuntimeError("boom")


@pytest.mark.usefixtures("production_mode")
def test_span_that_cannot_be_rebuilt_is_dropped() -> None:
    """If redaction itself fails the span is not exported (never unredacted)."""
    memory = InMemorySpanExporter()
    tracer, _ = _spans(RedactingSpanExporter(memory, _BrokenRedactor()))
    with tracer.start_as_current_span("op", attributes={"password": "pw1"}):
        pass
    assert memory.get_finished_spans() == ()


class _Recording(InMemorySpanExporter):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls.append("export")
        return super().export(spans)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.calls.append("flush")
        return True

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_span_exporter_delegates_flush_and_shutdown() -> None:
    """force_flush and shutdown reach the wrapped exporter."""
    inner = _Recording()
    wrapper = RedactingSpanExporter(inner)
    wrapper.force_flush()
    wrapper.shutdown()
    assert inner.calls == ["flush", "shutdown"]


# --- logs ------------------------------------------------------------------------


def _logs() -> tuple[LoggerProvider, InMemoryLogRecordExporter]:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(RedactingLogRecordProcessor())
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    return provider, memory


def test_log_string_body_is_redacted() -> None:
    """A string body is scanned as free text."""
    provider, memory = _logs()
    provider.get_logger("app").emit(body="login password=pw1")
    assert memory.get_finished_logs()[0].log_record.body == f"login password={REDACTED}"


def test_log_map_body_and_attributes_are_redacted() -> None:
    """Map bodies and attributes are redacted by key, at any depth."""
    provider, memory = _logs()
    provider.get_logger("app").emit(
        body={"user": {"token": "t1"}}, attributes={"cookie": "c1", "n": 1}
    )
    record = memory.get_finished_logs()[0].log_record
    assert record.body == {"user": {"token": REDACTED}}
    assert dict(record.attributes or {})["cookie"] == REDACTED


def test_log_exception_attributes_are_redacted() -> None:
    """exception.message/stacktrace set by the SDK are redacted."""
    provider, memory = _logs()
    try:
        raise KeyError("api_key=k1")
    except KeyError as exc:
        provider.get_logger("app").emit(body="failed", exception=exc)
    attributes = dict(memory.get_finished_logs()[0].log_record.attributes or {})
    assert "k1" not in str(attributes["exception.message"])
    assert "k1" not in str(attributes["exception.stacktrace"])


def test_log_resource_is_redacted() -> None:
    """The log record's resource is the redacted one."""
    provider, memory = _logs()
    provider.get_logger("app").emit(body="x")
    resource = memory.get_finished_logs()[0].resource
    assert resource.attributes["process.command_line"] == f"app --password={REDACTED}"


def test_own_scope_records_are_not_redacted_twice() -> None:
    """Records from ``otel_distro*`` scopes were redacted by the bridge: skipped."""
    provider, memory = _logs()
    provider.get_logger("otel_distro.logging").emit(body="password=already-handled")
    assert memory.get_finished_logs()[0].log_record.body == "password=already-handled"


def test_log_report_attribute_is_added() -> None:
    """A redacted record carries the report attribute."""
    provider, memory = _logs()
    provider.get_logger("app").emit(body="password=pw1")
    attributes = dict(memory.get_finished_logs()[0].log_record.attributes or {})
    assert attributes[REPORT_ATTRIBUTE] == ("password:body",)


@pytest.mark.usefixtures("production_mode")
def test_log_processor_failure_masks_the_record() -> None:
    """If redaction fails the body and attributes are dropped, nothing raises."""
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(RedactingLogRecordProcessor(_BrokenRedactor()))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    provider.get_logger("app").emit(body="password=pw1", attributes={"a": "b"})
    record = memory.get_finished_logs()[0].log_record
    assert record.body == REDACTED and not record.attributes


def _exported_logs(scope: str, **fields: Any) -> tuple[Any, InMemoryLogRecordExporter]:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(BatchLogRecordProcessor(RedactingLogRecordExporter(memory)))
    provider.get_logger(scope).emit(**fields)
    provider.force_flush()
    record = memory.get_finished_logs()[0]
    provider.shutdown()
    return record, memory


def test_log_exporter_wrapper_redacts_copies() -> None:
    """The exporter variant redacts body, attributes and resource in the export thread."""
    record, _ = _exported_logs("app", body="password=pw1", attributes={"token": "t1"})
    assert record.log_record.body == f"password={REDACTED}"
    assert dict(record.log_record.attributes or {})["token"] == REDACTED
    assert record.resource.attributes["process.command_line"] == f"app --password={REDACTED}"


def test_log_exporter_wrapper_skips_own_scope() -> None:
    """The exporter variant also leaves ``otel_distro*`` records to the bridge."""
    record, _ = _exported_logs("otel_distro.logging", body="password=handled")
    assert record.log_record.body == "password=handled"


# --- metrics ---------------------------------------------------------------------


def _collect(attributes: dict[str, Any]) -> MetricsData:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    provider.get_meter("m").create_counter("requests").add(1, attributes)
    data = reader.get_metrics_data()
    assert data is not None
    return data


def test_metric_point_attributes_are_redacted() -> None:
    """A URL with a token used as a metric attribute loses the token."""
    capture = MetricsCapture(delta=True)
    RedactingMetricExporter(capture).export(_collect({"url": "https://h/?token=t1"}))
    point = capture.data[0].resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0]
    assert dict(point.attributes or {})["url"] == f"https://h/?token={REDACTED}"


def test_metric_resource_is_redacted() -> None:
    """The metrics resource goes through the engine."""
    capture = MetricsCapture(delta=True)
    RedactingMetricExporter(capture).export(_collect({}))
    resource = capture.data[0].resource_metrics[0].resource
    assert resource.attributes["process.command_line"] == f"app --password={REDACTED}"


def test_metric_exporter_keeps_preferred_temporality() -> None:
    """The wrapper reports the wrapped exporter's temporality preferences."""
    wrapper = RedactingMetricExporter(MetricsCapture(delta=True))
    assert wrapper._preferred_temporality == {Counter: AggregationTemporality.DELTA}


def test_redaction_counter_is_observable() -> None:
    """``otel_distro.redactions`` reports counts by rule name."""
    redactor = Redactor()
    redactor.redact_mapping({"password": "x"})
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    observe_redactions(provider.get_meter("otel_distro"), redactor)
    data = reader.get_metrics_data()
    assert data is not None
    metric = data.resource_metrics[0].scope_metrics[0].metrics[0]
    point = metric.data.data_points[0]
    assert (metric.name, dict(point.attributes or {}), point.value) == (
        "otel_distro.redactions",
        {"rule": "password"},
        1,
    )


@pytest.mark.usefixtures("production_mode")
def test_pipeline_failures_are_counted() -> None:
    """A span dropped because redaction failed shows up as ``pipeline_error``."""
    memory = InMemorySpanExporter()
    tracer, _ = _spans(RedactingSpanExporter(memory, _BrokenRedactor()))
    with tracer.start_as_current_span("op"):
        pass
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    observe_redactions(provider.get_meter("otel_distro"), Redactor())
    data = reader.get_metrics_data()
    assert data is not None
    points = data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    assert any(dict(p.attributes or {}) == {"rule": "pipeline_error"} for p in points)


# --- headers and baggage -----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-API-Key",
        "X-Auth-Token",
        "X-Client-Secret",
        "X-CSRF-Token",
        "X-Amz-Signature",
    ],
)
def test_sensitive_headers_are_sanitised_by_contrib(header: str) -> None:
    """SENSITIVE_HEADERS used as the contrib sanitize list masks these headers."""
    assert SanitizeValue(SENSITIVE_HEADERS).sanitize_header_value(header, "v") == "[REDACTED]"


@pytest.mark.parametrize("header", ["Content-Type", "User-Agent", "X-Author", "Accept"])
def test_ordinary_headers_are_kept_by_contrib(header: str) -> None:
    """Ordinary headers (including X-Author) are not sanitised."""
    assert SanitizeValue(SENSITIVE_HEADERS).sanitize_header_value(header, "v") == "v"


def test_sensitive_headers_fit_a_comma_separated_variable() -> None:
    """No pattern contains a comma, so the list survives the env-var format."""
    assert ",".join(SENSITIVE_HEADERS).split(",") == list(SENSITIVE_HEADERS)


def test_baggage_attributes_are_redacted() -> None:
    """Baggage values copied to attributes go through the engine."""
    assert redact_attributes({"tenant.id": "t1", "session": "s1"}) == {
        "tenant.id": "t1",
        "session": REDACTED,
    }


def test_redact_attributes_passes_none_through() -> None:
    """``None`` attributes stay ``None``."""
    assert redact_attributes(None) is None
