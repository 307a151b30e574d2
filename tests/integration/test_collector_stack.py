"""The collector built from collector/builder-config.yaml, running collector/config.yaml
in front of Jaeger: its redaction stage on its own (OTLP sent straight to it, no
app-side redaction), its file output, and recovery after a restart."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
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
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ProtoResource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.integration.stack import COLLECTOR_BIN, REPO, Stack, require_stack_binaries, start_stack

pytestmark = pytest.mark.integration

CONFIG = REPO / "collector" / "config.yaml"
MANIFEST = REPO / "collector" / "builder-config.yaml"
MASK = "****"


# --- building OTLP requests by hand (nothing app-side touches them) ---------------


def _any(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=_attrs(value)))
    return AnyValue(string_value=str(value))


def _attrs(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_any(value)) for key, value in values.items()]


def _post(stack: Stack, path: str, message: Any) -> None:
    response = httpx.post(
        f"{stack.otlp_http_endpoint}{path}",
        content=message.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10.0,
    )
    assert response.status_code == 200, response.text


def _resource(service: str) -> ProtoResource:
    return ProtoResource(attributes=_attrs({"service.name": service}))


# --- decoding the file exporter's OTLP JSON -----------------------------------------


def _value(any_value: dict[str, Any]) -> Any:
    if "stringValue" in any_value:
        return any_value["stringValue"]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    if "boolValue" in any_value:
        return any_value["boolValue"]
    if "doubleValue" in any_value:
        return any_value["doubleValue"]
    if "kvlistValue" in any_value:
        return _attr_dict(any_value["kvlistValue"].get("values", []))
    if "arrayValue" in any_value:
        return [_value(v) for v in any_value["arrayValue"].get("values", [])]
    return None


def _attr_dict(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in attributes}


def _file_spans(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource_spans in record.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            yield from scope_spans.get("spans", [])


def _file_logs(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource_logs in record.get("resourceLogs", []):
        for scope_logs in resource_logs.get("scopeLogs", []):
            yield from scope_logs.get("logRecords", [])


def _file_points(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource_metrics in record.get("resourceMetrics", []):
        for scope_metrics in resource_metrics.get("scopeMetrics", []):
            for metric in scope_metrics.get("metrics", []):
                for kind in ("sum", "gauge", "histogram"):
                    yield from metric.get(kind, {}).get("dataPoints", [])


def _tagged(items: Iterator[dict[str, Any]], run: str) -> list[dict[str, Any]]:
    return [i for i in items if _attr_dict(i.get("attributes", [])).get("test.run") == run]


# --- secrets ------------------------------------------------------------------------


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class Secrets:
    """Fresh, synthetic secrets of each kind the collector must mask."""

    def __init__(self) -> None:
        self.card = "4111 1111 1111 1111"
        self.card_digits = "5500000000000004"
        self.amex = "378282246310005"
        self.jwt = (
            f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}"
            f".{_b64url({'sub': 'user-1', 'nonce': secrets.token_hex(8)})}"
            f".{secrets.token_urlsafe(32)}"
        )
        self.bearer_token = secrets.token_urlsafe(24)
        self.password = f"pw-{secrets.token_hex(8)}"
        self.api_key = f"key-{secrets.token_hex(12)}"

    def all(self) -> list[str]:
        """Every secret string, and the parts that would still leak on their own."""
        return [
            self.card,
            self.card.replace(" ", ""),
            self.card_digits,
            self.amex,
            self.jwt,
            self.jwt.split(".")[1],
            self.jwt.split(".")[2],
            self.bearer_token,
            self.password,
            self.api_key,
        ]

    def assert_absent(self, text: str, where: str) -> None:
        leaked = [secret for secret in self.all() if secret in text]
        assert not leaked, f"secrets survived in {where}: {leaked}"


ORDINARY = {
    "http.route": "/checkout/{order_id}",
    "http.request.method": "POST",
    "http.response.status_code": 402,
    "order.id": "ord-20261128-0042",
    "gen_ai.usage.input_tokens": 12,
    "feature.enabled": True,
    "note": "paid by card, see the bearer of this note",
}


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
        attributes=_attrs(
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
                attributes=_attrs({"exception.message": f"card {s.amex} declined"}),
            )
        ],
        status=Status(code=Status.STATUS_CODE_ERROR, message=f"declined {s.card_digits}"),
    )
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=_resource(service),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="raw"), spans=[span])],
            )
        ]
    )
    _post(stack, "/v1/traces", request)
    return trace_id.hex(), span.span_id.hex()


def _jaeger_tags(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in items}


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
    tags = _jaeger_tags(span["tags"])
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
    fields = _jaeger_tags(event["fields"])
    assert fields["event"] == f"retry with {MASK}"
    assert fields["exception.message"] == f"card {MASK} declined"


def test_redaction_applies_to_the_file_output_too(otel_stack: Stack) -> None:
    """The traces file holds the same masked span: redaction runs before every exporter."""
    run, s = uuid.uuid4().hex, Secrets()
    trace_id, span_id = _send_secret_span(otel_stack, "redaction-file-check", run, s)

    lines = otel_stack.wait_for_output("traces", lambda r: bool(_tagged(_file_spans(r), run)))
    s.assert_absent(json.dumps(lines), "traces.jsonl")
    (span,) = [span for line in lines for span in _tagged(_file_spans(line), run)]
    assert (span["traceId"], span["spanId"]) == (trace_id, span_id)
    assert span["name"] == f"charge {MASK} for {MASK}"
    attributes = _attr_dict(span["attributes"])
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
            attributes=_attrs({**common, "shape": "text"}),
        ),
        LogRecord(
            time_unix_nano=time.time_ns(),
            severity_text="INFO",
            body=_any({"card": s.amex, "api_key": s.api_key, "outcome": "approved"}),
            attributes=_attrs({**common, "shape": "map"}),
        ),
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=_resource("redaction-log-check"),
                scope_logs=[ScopeLogs(scope=InstrumentationScope(name="raw"), log_records=records)],
            )
        ]
    )
    _post(stack, "/v1/logs", request)


def _send_metric(stack: Stack, run: str, s: Secrets) -> None:
    point = NumberDataPoint(
        as_int=7,
        time_unix_nano=time.time_ns(),
        attributes=_attrs({"test.run": run, "http.route": "/checkout", "card": s.card}),
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
                resource=_resource("metrics-check"),
                scope_metrics=[
                    ScopeMetrics(scope=InstrumentationScope(name="raw"), metrics=[metric])
                ],
            )
        ]
    )
    _post(stack, "/v1/metrics", request)


def test_redaction_masks_log_bodies_and_attributes(otel_stack: Stack) -> None:
    """String and map log bodies and log attributes lose their secrets; the rest stays."""
    run, s = uuid.uuid4().hex, Secrets()
    _send_logs(otel_stack, run, s)

    def both_shapes(line: dict[str, Any]) -> bool:
        return len(_tagged(_file_logs(line), run)) == 2

    lines = otel_stack.wait_for_output("logs", both_shapes)
    s.assert_absent(json.dumps(lines), "logs.jsonl")
    logs = {
        _attr_dict(log["attributes"])["shape"]: log
        for line in lines
        for log in _tagged(_file_logs(line), run)
    }
    assert _value(logs["text"]["body"]) == f"payment {MASK} authorised with {MASK}, session {MASK}"
    assert _value(logs["map"]["body"]) == {"card": MASK, "api_key": MASK, "outcome": "approved"}
    for log in logs.values():
        attributes = _attr_dict(log["attributes"])
        assert {k: attributes[k] for k in ORDINARY} == ORDINARY
        assert attributes["password"] == MASK


def test_metrics_reach_the_file_output_with_point_attributes_masked(otel_stack: Stack) -> None:
    """A metric data point is written to metrics.jsonl, value intact, secrets masked."""
    run, s = uuid.uuid4().hex, Secrets()
    _send_metric(otel_stack, run, s)

    lines = otel_stack.wait_for_output("metrics", lambda r: bool(_tagged(_file_points(r), run)))
    s.assert_absent(json.dumps(lines), "metrics.jsonl")
    (written,) = [p for line in lines for p in _tagged(_file_points(line), run)]
    assert int(written["asInt"]) == 7
    assert _attr_dict(written["attributes"]) == {
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
        ("traces", "resourceSpans", _file_spans),
        ("logs", "resourceLogs", _file_logs),
        ("metrics", "resourceMetrics", _file_points),
    ):

        def ours(record: dict[str, Any], items: Any = items) -> bool:
            return bool(_tagged(items(record), run))

        otel_stack.wait_for_output(signal_name, ours)
        path = otel_stack.output_dir / f"{signal_name}.jsonl"
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert lines, f"{path} is empty"
        for line in lines:
            record = json.loads(line)
            assert isinstance(record, dict)
            assert list(record) == [top_key], f"{path}: {line[:200]}"


# --- restart --------------------------------------------------------------------------


def test_spans_sent_after_a_collector_restart_reach_jaeger(tmp_path: Path) -> None:
    """An app exporting continuously through the SDK's BatchSpanProcessor keeps
    delivering once the collector is back: spans created after a restart reach Jaeger."""
    stack = start_stack(tmp_path)
    service = f"restart-check-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{stack.otlp_http_endpoint}/v1/traces", timeout=5),
            schedule_delay_millis=100,
        )
    )
    tracer = provider.get_tracer("restart-check")
    stop = threading.Event()
    phase = ["before"]

    def keep_sending() -> None:
        seq = 0
        while not stop.is_set():
            with tracer.start_as_current_span("tick") as span:
                span.set_attribute("test.phase", phase[0])
                span.set_attribute("test.seq", seq)
            seq += 1
            stop.wait(0.05)

    sender = threading.Thread(target=keep_sending, name="span-sender", daemon=True)
    sender.start()
    try:
        stack.wait_for_traces(service, {"test.phase": "before"})
        old_pid = stack.pid("collector")
        stack.restart_collector()
        new_pid = stack.pid("collector")
        assert new_pid is not None and new_pid != old_pid
        phase[0] = "after"

        after = stack.wait_for_traces(service, {"test.phase": "after"}, count=3, timeout=60)
        assert all(
            _jaeger_tags(span["tags"])["test.phase"] == "after"
            for trace in after
            for span in trace["spans"]
        )
        with tracer.start_as_current_span("marked") as marked:
            trace_id = marked.get_span_context().trace_id
        trace = stack.wait_for_trace(trace_id, timeout=60)
        assert trace["traceID"] == f"{trace_id:032x}"
        assert [span["operationName"] for span in trace["spans"]] == ["marked"]
    finally:
        stop.set()
        sender.join(timeout=10)
        provider.shutdown()
        stack.stop()
    assert stack.pid("collector") is None and stack.pid("jaeger") is None


# --- the build ------------------------------------------------------------------------


def _components() -> dict[str, Any]:
    done = subprocess.run(
        [str(COLLECTOR_BIN), "components"], capture_output=True, text=True, timeout=60, check=True
    )
    parsed = yaml.safe_load(done.stdout)
    assert isinstance(parsed, dict)
    return parsed


def test_built_collector_has_exactly_the_components_the_config_uses() -> None:
    """The binary holds the manifest's modules, all at one release, and its component
    types are exactly those collector/config.yaml configures."""
    require_stack_binaries()
    components = _components()
    config = yaml.safe_load(CONFIG.read_text())
    manifest = yaml.safe_load(MANIFEST.read_text())

    for kind in ("receivers", "processors", "exporters", "extensions"):
        built = {item["name"] for item in components.get(kind) or []}
        used = {component_id.split("/")[0] for component_id in config.get(kind) or {}}
        assert built == used, kind
        modules = {item["module"] for item in components.get(kind) or []}
        assert modules == {entry["gomod"] for entry in manifest[kind]}, kind
    versions = {
        entry["gomod"].split()[1]
        for kind in ("receivers", "processors", "exporters", "extensions")
        for entry in manifest[kind]
    }
    assert versions == {f"v{manifest['dist']['version']}"}
    assert components["buildinfo"]["version"] == manifest["dist"]["version"]


@pytest.mark.parametrize("debug_exporter", ["nop", "debug"])
def test_otelcol_validate_accepts_the_config(debug_exporter: str, tmp_path: Path) -> None:
    """`otelcol validate` accepts collector/config.yaml with the debug exporter off and on."""
    require_stack_binaries()
    done = subprocess.run(
        [str(COLLECTOR_BIN), "validate", "--config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "OTELCOL_DEBUG_EXPORTER": debug_exporter},
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_otelcol_validate_rejects_a_broken_config(tmp_path: Path) -> None:
    """The validation above can fail: an unknown processor in a pipeline is an error."""
    require_stack_binaries()
    broken = CONFIG.read_text().replace(
        "processors: [memory_limiter, redaction, batch]",
        "processors: [memory_limiter, redaction, no_such_processor, batch]",
        1,
    )
    assert "no_such_processor" in broken
    (tmp_path / "config.yaml").write_text(broken)
    done = subprocess.run(
        [str(COLLECTOR_BIN), "validate", "--config", str(tmp_path / "config.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "no_such_processor" in done.stderr


def test_port_in_use_gives_a_clear_message(otel_stack: Stack, tmp_path: Path) -> None:
    """`stack.sh up` refuses to start on a taken port and names the variable to change."""
    env = dict(otel_stack.env)
    env["STACK_RUN_DIR"] = str(tmp_path / "run")
    env["STACK_OUTPUT_DIR"] = str(tmp_path / "output")
    done = subprocess.run(
        ["bash", str(REPO / "collector" / "scripts" / "stack.sh"), "up"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    port = env["JAEGER_OTLP_GRPC_PORT"]
    assert f"port {port} on 127.0.0.1 (JAEGER_OTLP_GRPC_PORT) is already in use" in done.stderr
    assert not list((tmp_path / "run").glob("*.pid"))
