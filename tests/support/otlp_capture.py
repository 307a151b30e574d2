"""The OTLP/HTTP capture receiver (shared with the demo; see ``examples/otlp_capture.py``)."""

from examples.otlp_capture import (
    CapturedLog,
    CapturedMetricPoint,
    CapturedSpan,
    OtlpCapture,
    Received,
    SpanEvent,
    SpanLink,
    decode_any_value,
    decode_attributes,
    parse_otlp_json,
)

__all__ = [
    "CapturedLog",
    "CapturedMetricPoint",
    "CapturedSpan",
    "OtlpCapture",
    "Received",
    "SpanEvent",
    "SpanLink",
    "decode_any_value",
    "decode_attributes",
    "parse_otlp_json",
]
