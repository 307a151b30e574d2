"""The ``opentelemetry_distro`` entry point: environment defaults and instrumentor options.

``_configure`` only fills in ``OTEL_*`` defaults (``setdefault``: the user's
values always win); everything else happens in the configurator.
``load_instrumentor`` hands our hooks to the ASGI instrumentors, keeps one
server span per request, and skips the log instrumentors that would duplicate
records bridged by the distro.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from otel_distro.config import get_settings, report

__all__ = [
    "OtelDistro",
    "apply_environment_defaults",
    "distro_configured",
    "warn_if_not_selected",
]

_logger = logging.getLogger(__name__)

ENTRY_POINT_NAME = "otel_distro"
_configured = False

_DEFAULTS = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "otlp",
    "OTEL_LOGS_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_TRACES_SAMPLER": "parentbased_always_on",
    "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel,host,process",
    "OTEL_PYTHON_CONFIGURATOR": ENTRY_POINT_NAME,
}


_LIMIT_ENV = (
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)


def drop_invalid_limits(env: MutableMapping[str, str]) -> None:
    """Remove (and report) attribute/event/link limits the SDK would refuse.

    The SDK reads them when ``opentelemetry.sdk.trace`` is first imported and raises
    on anything but a non-negative integer or ``unset`` (an empty value too): the
    configurator then fails to import and the app runs with no telemetry at all.
    The distro runs before that import, so a bad limit costs only that limit.
    """
    for name in _LIMIT_ENV:
        raw = env.get(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value == "unset":
            continue
        try:
            if int(value) >= 0:  # exactly what the SDK accepts
                continue
        except ValueError:
            pass
        del env[name]
        report(
            f"{name}={raw!r} is not valid: expected a non-negative integer or 'unset'; "
            "using the SDK default"
        )


def apply_environment_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    """Fill in the distro's ``OTEL_*`` defaults without overwriting the user's values."""
    env = os.environ if environ is None else environ
    drop_invalid_limits(env)
    for name, value in _DEFAULTS.items():
        env.setdefault(name, value)
    chosen = env.get("OTEL_PYTHON_CONFIGURATOR", ENTRY_POINT_NAME)
    if chosen != ENTRY_POINT_NAME:
        report(
            f"OTEL_PYTHON_CONFIGURATOR={chosen!r} selects another configurator: otel-distro's "
            "redaction, tenant and log processors are NOT installed "
            f"(use {ENTRY_POINT_NAME!r} or unset it)"
        )
    from otel_distro.redaction import SENSITIVE_HEADERS

    name = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"
    user = [item.strip() for item in env.get(name, "").split(",") if item.strip()]
    merged = list(dict.fromkeys([*user, *SENSITIVE_HEADERS]))
    env[name] = ",".join(merged)


def distro_configured() -> bool:
    """Whether our distro ran in this process (else another distro won)."""
    return _configured


def warn_if_not_selected() -> None:
    """Say once, at startup, that another distro was loaded instead of ours.

    Runs from the configurator and from the ``opentelemetry_pre_instrument`` entry
    point, so the warning appears even when neither our distro nor our
    configurator was selected.
    """
    if _configured:
        return
    chosen = os.environ.get("OTEL_PYTHON_DISTRO", "(first found)")
    report(
        f"OTEL_PYTHON_DISTRO={chosen!r} loaded another distro: otel-distro's instrumentation "
        "hooks (tenant, request id, one span per request, no duplicate logs) are not installed; "
        f"set OTEL_PYTHON_DISTRO={ENTRY_POINT_NAME}"
    )


class OtelDistro(BaseDistro):  # type: ignore[misc]
    """otel-distro's distro: defaults first, the configurator does the wiring."""

    def _configure(self, **kwargs: Any) -> None:
        global _configured
        _configured = True
        try:
            apply_environment_defaults()
        except Exception as exc:
            report(f"could not apply environment defaults ({type(exc).__name__}: {exc})")

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        name = entry_point.name
        settings = get_settings()
        if not settings.enable_opentelemetry:
            _logger.debug("ENABLE_OPENTELEMETRY=false: not instrumenting %s", name)
            return
        try:
            from otel_distro.logging import should_skip_instrumentor

            if should_skip_instrumentor(name):
                _logger.debug("skipping %s instrumentation: the distro bridges logs once", name)
                return
        except ImportError:
            pass
        if name in ("fastapi", "starlette"):
            from otel_distro.asgi import chain_hooks, mark_escaping_exceptions, server_request_hook

            mark_escaping_exceptions()
            kwargs["server_request_hook"] = chain_hooks(
                server_request_hook, kwargs.get("server_request_hook")
            )
            if name == "fastapi" and not settings.asgi_internal_spans:
                kwargs.setdefault("exclude_spans", ["receive", "send"])
        if name == "httpx":
            from otel_distro.http._hooks import async_response_hook, response_hook

            kwargs.setdefault("response_hook", response_hook)
            kwargs.setdefault("async_response_hook", async_response_hook)
        if name == "aio-pika":
            # ours: semconv attributes, redacted routing keys, consumer spans linked to producers
            from otel_distro.messaging import AioPikaInstrumentor

            AioPikaInstrumentor().instrument(**kwargs)
            return
        super().load_instrumentor(entry_point, **kwargs)
