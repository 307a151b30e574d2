"""The collector built from collector/builder-config.yaml, running collector/config.yaml in
front of Jaeger: its redaction stage on its own (OTLP sent straight to it, no app-side
redaction) and its file output."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from tests.integration.collector_otlp import (
    MASK,
    ORDINARY,
    Secrets,
    any_value,
    file_attributes,
    file_logs,
    file_points,
    file_spans,
    file_value,
    jaeger_tags,
    key_values,
    post,
    proto_resource,
    tagged,
)
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


# --- the redaction stage --------------------------------------------------------------


def _send_secret_span(stack: Stack, service: str, run: str, s: Secrets) -> tuple[str, str]:
    trace_id = secrets.token_bytes(16)
    span = Span(
        trace_id=trace_id,
        span_id=secrets.token_bytes(8),
        name=f"charge {s.card} for {s.jwt}",
        kind=Span.SPAN_KIND_SERVER,
        # Wall-clock times so Jaeger's time-bounded search finds the span.
        start_time_unix_nano=time.time_ns(),
        end_time_unix_nano=time.time_ns() + 1_000_000,
        attributes=key_values(
            {
                "test.run": run,
                **ORDINARY,
                "password": s.password,
                "user.password": s.password,
                "http.request.header.authorization": f"Bearer {s.bearer_token}",
                "http.request.header.x-api-key": s.api_key,
                "payment.card": s.card,
                "payment.card_int": int(s.card_digits),
                "auth.header_text": f"sent Authorization: Bearer {s.bearer_token} upstream",
                "session.jwt_in_text": f"token={s.jwt}; path=/",
                "billing": {"amex": s.amex, "country": "NL"},
            }
        ),
        events=[
            Span.Event(
                name=f"retry with Bearer {s.bearer_token}",
                time_unix_nano=time.time_ns(),
                attributes=key_values({"exception.message": f"card {s.amex} declined"}),
            )
        ],
        status=Status(code=Status.STATUS_CODE_ERROR, message=f"declined {s.card_digits}"),
    )
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=proto_resource(service),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="raw"), spans=[span])],
            )
        ]
    )
    post(stack, "/v1/traces", request)
    return trace_id.hex(), span.span_id.hex()


def test_redaction_masks_secrets_in_spans_seen_by_jaeger(otel_stack: Stack) -> None:
    """Card numbers, JWTs, bearer tokens and secret-named keys sent straight to the
    collector are masked in span attributes, span name, status and events before
    Jaeger stores them; ordinary attributes arrive unchanged, types included."""
    run, service, s = uuid.uuid4().hex, "redaction-check", Secrets()
    trace_id, _ = _send_secret_span(otel_stack, service, run, s)

    traces = otel_stack.wait_for_traces(service, {"test.run": run})
    assert [t["traceID"] for t in traces] == [trace_id]
    s.assert_absent(json.dumps(traces), "Jaeger")

    (span,) = traces[0]["spans"]
    assert span["operationName"] == f"charge {MASK} for {MASK}"
    tags = jaeger_tags(span["tags"])
    for key, value in ORDINARY.items():
        assert tags[key] == value, key
    assert {t["key"]: t["type"] for t in span["tags"]}["gen_ai.usage.input_tokens"] == "int64"
    for key in ("password", "user.password", "http.request.header.authorization"):
        assert tags[key] == MASK, key
    assert tags["http.request.header.x-api-key"] == MASK
    assert tags["payment.card"] == MASK
    assert tags["payment.card_int"] == MASK
    assert tags["auth.header_text"] == f"sent Authorization: {MASK} upstream"
    assert tags["session.jwt_in_text"] == f"token={MASK}; path=/"
    assert tags["otel.status_description"] == f"declined {MASK}"
    assert tags["redaction.masked.count"] >= 1
    (event,) = span["logs"]
    fields = jaeger_tags(event["fields"])
    assert fields["event"] == f"retry with {MASK}"
    assert fields["exception.message"] == f"card {MASK} declined"


def test_redaction_applies_to_the_file_output_too(otel_stack: Stack) -> None:
    """The traces file holds the same masked span: redaction runs before every exporter."""
    run, s = uuid.uuid4().hex, Secrets()
    trace_id, span_id = _send_secret_span(otel_stack, "redaction-file-check", run, s)

    lines = otel_stack.wait_for_output("traces", lambda r: bool(tagged(file_spans(r), run)))
    s.assert_absent(json.dumps(lines), "traces.jsonl")
    (span,) = [span for line in lines for span in tagged(file_spans(line), run)]
    assert (span["traceId"], span["spanId"]) == (trace_id, span_id)
    assert span["name"] == f"charge {MASK} for {MASK}"
    attributes = file_attributes(span["attributes"])
    assert {k: attributes[k] for k in ORDINARY} == ORDINARY
    assert attributes["password"] == MASK
    # A map holding a secret is masked in its JSON text (and so becomes a string).
    assert json.loads(attributes["billing"]) == {"amex": MASK, "country": "NL"}


def _send_logs(stack: Stack, run: str, s: Secrets) -> None:
    common = {"test.run": run, **ORDINARY, "password": s.password}
    text_body = f"payment {s.card} authorised with Bearer {s.bearer_token}, session {s.jwt}"
    records = [
        LogRecord(
            time_unix_nano=time.time_ns(),
            severity_text="INFO",
            body=AnyValue(string_value=text_body),
            attributes=key_values({**common, "shape": "text"}),
        ),
        LogRecord(
            time_unix_nano=time.time_ns(),
            severity_text="INFO",
            body=any_value({"card": s.amex, "api_key": s.api_key, "outcome": "approved"}),
            attributes=key_values({**common, "shape": "map"}),
        ),
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=proto_resource("redaction-log-check"),
                scope_logs=[ScopeLogs(scope=InstrumentationScope(name="raw"), log_records=records)],
            )
        ]
    )
    post(stack, "/v1/logs", request)


def _send_metric(stack: Stack, run: str, s: Secrets) -> None:
    point = NumberDataPoint(
        as_int=7,
        time_unix_nano=time.time_ns(),
        attributes=key_values({"test.run": run, "http.route": "/checkout", "card": s.card}),
    )
    metric = Metric(
        name="checkout.attempts",
        unit="{attempt}",
        sum=Sum(
            data_points=[point],
            aggregation_temporality=AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
            is_monotonic=True,
        ),
    )
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=proto_resource("metrics-check"),
                scope_metrics=[
                    ScopeMetrics(scope=InstrumentationScope(name="raw"), metrics=[metric])
                ],
            )
        ]
    )
    post(stack, "/v1/metrics", request)


def test_redaction_masks_log_bodies_and_attributes(otel_stack: Stack) -> None:
    """String and map log bodies and log attributes lose their secrets; the rest stays."""
    run, s = uuid.uuid4().hex, Secrets()
    _send_logs(otel_stack, run, s)

    def both_shapes(line: dict[str, Any]) -> bool:
        return len(tagged(file_logs(line), run)) == 2

    lines = otel_stack.wait_for_output("logs", both_shapes)
    s.assert_absent(json.dumps(lines), "logs.jsonl")
    logs = {
        file_attributes(log["attributes"])["shape"]: log
        for line in lines
        for log in tagged(file_logs(line), run)
    }
    assert (
        file_value(logs["text"]["body"]) == f"payment {MASK} authorised with {MASK}, session {MASK}"
    )
    assert file_value(logs["map"]["body"]) == {"card": MASK, "api_key": MASK, "outcome": "approved"}
    for log in logs.values():
        attributes = file_attributes(log["attributes"])
        assert {k: attributes[k] for k in ORDINARY} == ORDINARY
        assert attributes["password"] == MASK


def test_metrics_reach_the_file_output_with_point_attributes_masked(otel_stack: Stack) -> None:
    """A metric data point is written to metrics.jsonl, value intact, secrets masked."""
    run, s = uuid.uuid4().hex, Secrets()
    _send_metric(otel_stack, run, s)

    lines = otel_stack.wait_for_output("metrics", lambda r: bool(tagged(file_points(r), run)))
    s.assert_absent(json.dumps(lines), "metrics.jsonl")
    (written,) = [p for line in lines for p in tagged(file_points(line), run)]
    assert int(written["asInt"]) == 7
    assert file_attributes(written["attributes"]) == {
        "test.run": run,
        "http.route": "/checkout",
        "card": MASK,
    }


def test_file_output_is_one_otlp_json_export_request_per_line(otel_stack: Stack) -> None:
    """Every line of traces/logs/metrics.jsonl is a whole OTLP JSON export request of
    that signal, so the files can be replayed or read line by line."""
    run, s = uuid.uuid4().hex, Secrets()
    _send_secret_span(otel_stack, "file-format-check", run, s)
    _send_logs(otel_stack, run, s)
    _send_metric(otel_stack, run, s)

    for signal_name, top_key, items in (
        ("traces", "resourceSpans", file_spans),
        ("logs", "resourceLogs", file_logs),
        ("metrics", "resourceMetrics", file_points),
    ):

        def ours(record: dict[str, Any], items: Any = items) -> bool:
            return bool(tagged(items(record), run))

        otel_stack.wait_for_output(signal_name, ours)
        path = otel_stack.output_dir / f"{signal_name}.jsonl"
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert lines, f"{path} is empty"
        for line in lines:
            record = json.loads(line)
            assert isinstance(record, dict)
            assert list(record) == [top_key], f"{path}: {line[:200]}"
