"""Property: planted secrets never reach the OTLP bytes; benign look-alikes do.

Secrets are generated (JWTs, cloud tokens, Luhn-valid cards, mod-97 IBANs,
PEM private keys, values under sensitive keys) and planted at random places: nested attribute
structures, JSON inside strings, log bodies and kwargs, URLs, captured headers,
exception messages and metric attributes.  Spans, log records and metrics then
go through the SDK, our processors/exporter wrappers and the OTLP protobuf
encoding.
"""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.exporters.redacting import RedactingMetricExporter, RedactingSpanExporter
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.redaction import Redactor
from otel_distro.redaction._checksums import luhn_valid
from tests.support.metrics import MetricsCapture

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits

SENSITIVE_KEYS = [
    "password",
    "db.password",
    "api_key",
    "x-api-key",
    "client_secret",
    "access_token",
    "authorization",
    "cookie",
    "session_id",
    "credentials",
    "private_key",
    "jwt",
    "csrf_token",
]
FILLER = ["request", "failed", "for", "user", "retrying", "the", "cache", "value", "ok"]

BENIGN: dict[str, Any] = {
    "author": "alice-the-writer",
    "token_count": 123457,
    "browserSessionId": "bsid-ordinary-value",
}


def _text(size: int, alphabet: str = ALNUM) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


def _card(digits: str) -> str:
    body = "4" + digits
    check = next(str(d) for d in range(10) if luhn_valid(body + str(d)))
    return body + check


def _iban(digits: str) -> str:
    bban = digits
    rearranged = bban + "DE00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"DE{98 - number % 97:02d}{bban}"


def _not_luhn(digits: str) -> str:
    body = "4" + digits
    check = next(str(d) for d in range(10) if not luhn_valid(body + str(d)))
    return body + check


def _group(number: str, sep: str) -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4)) if sep else number


# A "shape" secret is recognisable wherever it stands as a word.
shape_secrets = st.one_of(
    st.builds(
        lambda a, b, c: f"eyJ{a}.eyJ{b}.{c}",
        _text(20, B64URL),
        _text(30, B64URL),
        _text(43, B64URL),
    ),
    st.builds(lambda s: "AKIA" + s, _text(16, UPPER_DIGITS)),
    st.builds(lambda s: "ghp_" + s, _text(36)),
    st.builds(lambda s: "xoxb-" + s, _text(24)),
    st.builds(lambda s: "sk_live_" + s, _text(24)),
    st.builds(lambda s: "glpat-" + s, _text(20)),
    st.builds(_group, st.builds(_card, _text(14, string.digits)), st.sampled_from(["", " ", "-"])),
    st.builds(_iban, _text(18, string.digits)),
)
# A "keyed" secret is only recognisable by the key it is stored or written under.
keyed_values = st.builds(lambda s: "Zq" + s, _text(14))
keys = st.sampled_from(SENSITIVE_KEYS)
# The body of a PEM private key.
pem_bodies = st.builds(lambda s: "MII" + s, _text(48, ALNUM + "+/"))


@st.composite
def free_text(draw: st.DrawFn) -> tuple[str, str]:
    """(text, secret): a secret written into a sentence in one of many forms."""
    secret = draw(st.one_of(shape_secrets, keyed_values, pem_bodies))
    key = draw(keys)
    if secret.startswith("MII"):
        kind = draw(st.sampled_from(["RSA ", "EC ", ""]))
        fragment = f"-----BEGIN {kind}PRIVATE KEY-----\n{secret}\n-----END {kind}PRIVATE KEY-----"
    elif secret.startswith("Zq"):
        form = draw(
            st.sampled_from(
                [
                    "{k}={v}",
                    "{k}: {v}",
                    '"{k}": "{v}"',
                    "'{k}': '{v}'",
                    "{k}='{v}'",
                    "Authorization: Bearer {v}",
                    "--{k} {v}",
                    "--{k}={v}",
                    "https://user:{v}@db.internal:5432/x",
                    "https://h/p?a=1&{k}={v}&b=2",
                    "/cb?code=1&sig={v}",
                    "https://h/cb#access_token={v}&state=s",
                ]
            )
        )
        fragment = form.format(k=key, v=secret)
    else:
        fragment = secret
    words = draw(st.lists(st.sampled_from(FILLER), max_size=6))
    at = draw(st.integers(0, len(words)))
    return " ".join([*words[:at], fragment, *words[at:]]), secret


@st.composite
def nested(draw: st.DrawFn, planted: list[str]) -> Any:
    """A nested map/list with one planted secret at a random depth."""
    if draw(st.booleans()):
        value: Any = draw(keyed_values)
        planted.append(value)
        leaf: Any = {draw(keys): value}
    else:
        text, secret = draw(free_text())
        planted.append(secret)
        leaf = {"message": text}
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["data", "items", "request", "ctx"]))
        leaf = [leaf, "x"] if draw(st.booleans()) else {name: leaf, "n": 1}
    return leaf


def _order_number(digits: str) -> str:
    return _not_luhn(digits)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], str, Any, dict[str, Any]]:
    """Span attributes, planted secrets, an exception message, a log body and log kwargs."""
    planted: list[str] = []
    attributes: dict[str, Any] = dict(BENIGN)
    attributes["order.number"] = draw(st.builds(_order_number, _text(14, string.digits)))
    key, value = draw(keys), draw(keyed_values)
    attributes[key] = value
    planted.append(value)
    attributes["payload"] = json.dumps(draw(nested(planted)))
    text, secret = draw(free_text())
    attributes["message"] = text
    planted.append(secret)
    texts = draw(st.lists(free_text(), min_size=1, max_size=3))
    attributes["notes"] = tuple(t for t, _ in texts)
    planted.extend(s for _, s in texts)
    header = draw(st.sampled_from(["authorization", "cookie", "x_api_key", "set_cookie"]))
    header_value = draw(keyed_values)
    attributes[f"http.request.header.{header}"] = (f"Bearer {header_value}",)
    planted.append(header_value)
    url_secret = draw(keyed_values)
    attributes["url.full"] = draw(
        st.sampled_from(
            [
                f"https://bob:{url_secret}@example.com/x?page=2",
                f"https://example.com/x?X-Amz-Signature={url_secret}&page=2",
                f"https://example.com/x?token={url_secret}",
            ]
        )
    )
    planted.append(url_secret)
    exception_text, exception_secret = draw(free_text())
    planted.append(exception_secret)
    body = draw(nested(planted))
    kwargs = {"event": "x", "ctx": draw(nested(planted)), **BENIGN}
    return attributes, planted, exception_text, body, kwargs


_SPANS = InMemorySpanExporter()
_TRACER_PROVIDER = TracerProvider(resource=Resource.create({"service.name": "prop"}))
_TRACER_PROVIDER.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(_SPANS, Redactor())))
_LOGS = InMemoryLogRecordExporter()
_LOGGER_PROVIDER = LoggerProvider(resource=Resource.create({"service.name": "prop"}))
_LOGGER_PROVIDER.add_log_record_processor(RedactingLogRecordProcessor(Redactor()))
_LOGGER_PROVIDER.add_log_record_processor(SimpleLogRecordProcessor(_LOGS))


def _encoded_metrics(attributes: dict[str, Any]) -> bytes:
    """A counter whose attributes are URLs and messages, through the metric wrapper."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    point_attributes = {"url": attributes["url.full"], "message": attributes["message"]}
    provider.get_meter("prop").create_counter("requests").add(1, point_attributes)
    data = reader.get_metrics_data()
    assert data is not None
    capture = MetricsCapture()
    RedactingMetricExporter(capture, Redactor()).export(data)
    return encode_metrics(capture.data[0]).SerializeToString()


def _encoded(
    attributes: dict[str, Any], exception_text: str, body: Any, kwargs: dict[str, Any]
) -> bytes:
    _SPANS.clear()
    _LOGS.clear()
    tracer = _TRACER_PROVIDER.get_tracer("prop")
    try:
        with tracer.start_as_current_span(exception_text, attributes=attributes):
            raise ValueError(exception_text)
    except ValueError as exc:
        _LOGGER_PROVIDER.get_logger("app").emit(body=body, attributes=kwargs, exception=exc)
    _LOGGER_PROVIDER.get_logger("app").emit(body=exception_text, attributes=kwargs)
    spans = encode_spans(_SPANS.get_finished_spans()).SerializeToString()
    logs = encode_logs(_LOGS.get_finished_logs()).SerializeToString()
    return spans + logs + _encoded_metrics(attributes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_no_planted_secret_reaches_the_encoded_bytes(
    case: tuple[dict[str, Any], list[str], str, Any, dict[str, Any]],
) -> None:
    """Every planted secret is absent from the OTLP-encoded spans and logs."""
    attributes, planted, exception_text, body, kwargs = case
    encoded = _encoded(attributes, exception_text, body, kwargs)
    leaked = [secret for secret in planted if secret.encode() in encoded]
    assert leaked == []


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_benign_look_alikes_survive(
    case: tuple[dict[str, Any], list[str], str, Any, dict[str, Any]],
) -> None:
    """author, token_count, browserSessionId values and a non-Luhn order number are kept."""
    attributes, _, exception_text, body, kwargs = case
    encoded = _encoded(attributes, exception_text, body, kwargs)
    span = _SPANS.get_finished_spans()[0]
    assert dict(span.attributes or {})["order.number"] == attributes["order.number"]
    assert b"alice-the-writer" in encoded and b"bsid-ordinary-value" in encoded
    for record in _LOGS.get_finished_logs():
        assert dict(record.log_record.attributes or {})["token_count"] == 123457
