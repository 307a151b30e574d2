"""The ``opentelemetry_distro`` entry point: environment defaults and instrumentor options.

``_configure`` only fills in ``OTEL_*`` defaults (``setdefault``: the user's
values always win); everything else happens in the configurator.
``load_instrumentor`` installs the lean server middleware for the FastAPI and
Starlette instrumentors' entry points and its own ``otel_distro_server`` one (or hands
our hooks to the contrib instrumentors with ``OTEL_DISTRO_SERVER_MIDDLEWARE=contrib``),
keeps one server span per request, skips the log instrumentors that would duplicate
records bridged by the distro, and loads the distro's own aio-pika tracing for the
``aio-pika`` entry point (the distro's, or the contrib's when it is installed too).
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from importlib.metadata import EntryPoint
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from otel_distro.config import get_settings, report
from otel_distro.config._environ import prepare_environ
from otel_distro.config._sdk_checks import CONFIGURATOR_ENTRY_POINT

__all__ = [
    "OtelDistro",
    "apply_environment_defaults",
    "distro_configured",
    "warn_if_not_selected",
]

_logger = logging.getLogger(__name__)

ENTRY_POINT_NAME = CONFIGURATOR_ENTRY_POINT
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


def apply_environment_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    """Fill in the distro's ``OTEL_*`` defaults without overwriting the user's values.

    The repairs the SDK needs before it is imported (bad limits dropped, the
    redaction engine's sensitive headers added to the sanitized ones) are
    :func:`otel_distro.config._environ.prepare_environ`'s.
    """
    from otel_distro.redaction import SENSITIVE_HEADERS

    env = os.environ if environ is None else environ
    prepare_environ(env, SENSITIVE_HEADERS)
    for name, value in _DEFAULTS.items():
        env.setdefault(name, value)


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

    def _configure(self, **kwargs: object) -> None:
        global _configured
        _configured = True
        try:
            apply_environment_defaults()
        except Exception as exc:
            report(f"could not apply environment defaults ({type(exc).__name__}: {exc})")

    def _load_server(self, settings: Any) -> None:
        """The ``otel_distro_server`` entry point: the lean middleware for Starlette apps
        (unless ``starlette`` is a disabled instrumentation); nothing with ``contrib``."""
        from otel_distro.asgi import (
            chain_hooks,
            lean_server,
            mark_escaping_exceptions,
            server_request_hook,
        )

        disabled = os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "")
        if not lean_server(settings) or "starlette" in {n.strip() for n in disabled.split(",")}:
            return
        from otel_distro._server_install import install_lean

        mark_escaping_exceptions()
        install_lean(chain_hooks(server_request_hook), ("starlette",))

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
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
        if name == "otel_distro_server":  # Starlette apps without the contrib instrumentor
            self._load_server(settings)
            return
        if name in ("fastapi", "starlette"):
            from otel_distro.asgi import (
                chain_hooks,
                lean_server,
                mark_escaping_exceptions,
                server_request_hook,
            )

            mark_escaping_exceptions()
            kwargs["server_request_hook"] = chain_hooks(
                server_request_hook, kwargs.get("server_request_hook")
            )
            if lean_server(settings):  # our middleware, in every Starlette/FastAPI app
                from otel_distro._server_install import install_lean

                install_lean(kwargs["server_request_hook"], (name,))
                return
            if name == "fastapi" and not settings.asgi_internal_spans:
                kwargs.setdefault("exclude_spans", ["receive", "send"])
        if name == "httpx":
            from otel_distro.http._body import body_logging_enabled
            from otel_distro.http._hooks import async_response_hook, response_hook

            body_logging_enabled(settings)  # a production override is said at startup
            kwargs.setdefault("response_hook", response_hook)
            kwargs.setdefault("async_response_hook", async_response_hook)
        if name == "aio-pika":
            # ours: semconv attributes, redacted routing keys, consumer spans linked to producers
            from otel_distro.messaging import AioPikaInstrumentor

            instrumentor = AioPikaInstrumentor()
            if instrumentor.is_instrumented_by_opentelemetry:
                return  # the contrib's entry point and ours share the name: loaded once
            # our entry point has no `instruments` extra: check aio-pika's version here,
            # a missing or unsupported aio-pika is reported as for any instrumentation
            kwargs.pop("skip_dep_check", None)
            kwargs.setdefault("raise_exception_on_conflict", True)
            instrumentor.instrument(**kwargs)
            return
        super().load_instrumentor(entry_point, **kwargs)
