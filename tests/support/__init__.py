"""Test harness: an OTLP capture receiver, real app launches, CI-aware skipping."""

from .ci import in_ci, require
from .launch import AppProcess, AppStartError, launch_app
from .otlp_capture import CapturedLog, CapturedMetricPoint, CapturedSpan, OtlpCapture

__all__ = [
    "AppProcess",
    "AppStartError",
    "CapturedLog",
    "CapturedMetricPoint",
    "CapturedSpan",
    "OtlpCapture",
    "in_ci",
    "launch_app",
    "require",
]
