"""The ``opentelemetry_configurator`` entry point: settings -> providers -> processors -> exporters.

Data path for each signal (everything before an exporter runs in-process):

* spans: tenant/baggage copier (request thread) -> batch processor ->
  redacting exporter wrapper (export thread) -> OTLP or file exporter;
* logs: structlog/stdlib bridge (redacts once) -> tenant copier -> redaction
  for foreign records -> batch processor -> OTLP or file exporter;
* metrics: periodic reader -> redacting exporter wrapper -> OTLP or file exporter;
  no attribute a client chooses on the contrib server metrics (:mod:`._metric_bounds`).

Our failures never reach the app: a broken setup is reported in one line and
the app runs with less (or no) telemetry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from otel_distro._header_warnings import quiet_header_warnings
from otel_distro._metric_bounds import bound_server_metric_attributes
from otel_distro._report import guarded
from otel_distro.config import Settings, get_settings, report
from otel_distro.config._environ import overlaid, patched_environ, sdk_overrides
from otel_distro.config._otlp_checks import (
    DEFAULT_GRPC_ENDPOINT,
    DEFAULT_HTTP_ENDPOINT,
    EXPORTER_ENV,
    OTLP_NAMES,
    SIGNALS,
    default_endpoint,
    endpoint_explicit,
    exporter_names,
    protocol,
)
from otel_distro.config._sdk_checks import propagator_names, sampler_choice, sdk_config_file

if TYPE_CHECKING:
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.sdk._logs import LogRecordProcessor
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler

__all__ = ["OtelDistroConfigurator", "configure_sdk", "install_propagators"]

FILE_EXPORTER = "otel_distro_file"
_configured_sdk = False


def _exporter_args(
    names: Mapping[str, list[str]], env: Mapping[str, str]
) -> dict[type, dict[str, str]]:
    """Point the OTLP exporters at 127.0.0.1 (not ``localhost``, which may be ::1)."""
    args: dict[type, dict[str, str]] = {}
    if endpoint_explicit(env):
        return args
    for signal, exporters in names.items():
        if not any(name in OTLP_NAMES for name in exporters):
            continue
        grpc = protocol(signal, env) == "grpc"
        for cls in _otlp_classes(signal, grpc):
            endpoint = DEFAULT_GRPC_ENDPOINT if grpc else f"{DEFAULT_HTTP_ENDPOINT}/v1/{signal}"
            args[cls] = {"endpoint": endpoint}
    return args


def _otlp_classes(signal: str, grpc: bool) -> list[type]:
    from importlib.metadata import entry_points

    wanted = "otlp_proto_grpc" if grpc else "otlp_proto_http"
    classes: list[type] = []
    for ep in entry_points(group=f"opentelemetry_{signal}_exporter"):
        if ep.name == wanted:
            try:
                classes.append(ep.load())
            except Exception:  # noqa: S112 - a broken exporter package is reported by the SDK
                continue
    return classes


def _resource_attributes(settings: Settings) -> dict[str, str]:
    from otel_distro import __version__

    attributes = {
        "deployment.environment.name": settings.environment,
        "telemetry.distro.name": "otel-distro",
        "telemetry.distro.version": __version__,
    }
    resource_env = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if settings.service_version and "service.version=" not in resource_env:
        attributes["service.version"] = settings.service_version
    return attributes


def _sampler(settings: Settings) -> Sampler:
    """The user's sampler (checked), wrapped to drop the ASGI internal spans."""
    from opentelemetry.sdk._configuration import _import_sampler, _import_sampler_factory
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    from otel_distro.processors.sampling import DropAsgiInternalSpans

    name, ratio = sampler_choice()
    inner: Sampler | None
    if name is not None and ratio is not None:
        try:  # the ratio was checked: hand it over instead of the raw variable
            inner = _import_sampler_factory(name)(ratio)
        except Exception as exc:
            report(f"OTEL_TRACES_SAMPLER={name!r} cannot be loaded ({type(exc).__name__})")
            inner = None
    else:
        inner = _import_sampler(name)
    inner = inner or ParentBased(ALWAYS_ON)
    return inner if settings.asgi_internal_spans else DropAsgiInternalSpans(inner)


def _wrap_metric_exporters() -> None:
    """Route every periodic reader's exports through the redacting wrapper.

    The SDK has no hook for wrapping metric exporters; the readers were just
    created and have not exported yet, so the swap is safe (pinned SDK 1.45).
    A reader that cannot be wrapped is shut down: no unredacted export.
    """
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from otel_distro.exporters.redacting import RedactingMetricExporter

    provider = metrics.get_meter_provider()
    if not isinstance(provider, MeterProvider):
        return
    for reader in getattr(provider, "_metric_readers", ()):
        try:
            exporter = reader._exporter
            if not isinstance(exporter, RedactingMetricExporter):
                reader._exporter = RedactingMetricExporter(exporter)
        except Exception as exc:
            report(
                f"metric export is off: redaction could not be installed on "
                f"{type(reader).__name__} ({type(exc).__name__})"
            )
            if isinstance(reader, PeriodicExportingMetricReader):
                reader.shutdown()


def _observe_redactions() -> None:
    """Export how many values redaction replaced, by rule (never what it replaced)."""
    from opentelemetry import metrics

    from otel_distro import __version__
    from otel_distro._signal_redaction import observe_redactions

    observe_redactions(metrics.get_meter("otel_distro", __version__))


def install_propagators(settings: Settings) -> None:
    """Set the global propagators explicitly (``OTEL_PROPAGATORS`` was read too early)."""
    from importlib.metadata import entry_points

    from opentelemetry.propagate import set_global_textmap
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from otel_distro.propagation import ContainedPropagator, TrustedBaggagePropagator

    propagators: list[TextMapPropagator] = []
    for name in propagator_names():
        if name == "tracecontext":
            propagators.append(_trace_context(settings, TraceContextTextMapPropagator()))
        elif name == "baggage":
            propagators.append(TrustedBaggagePropagator(settings))
        else:
            found = [ep for ep in entry_points(group="opentelemetry_propagator") if ep.name == name]
            try:
                propagators.append(found[0].load()())
            except Exception:
                raw = os.environ.get("OTEL_PROPAGATORS", "tracecontext,baggage")
                report(
                    f"OTEL_PROPAGATORS={raw!r} names {name!r}, which cannot be loaded; skipping it"
                )
    set_global_textmap(CompositePropagator([ContainedPropagator(p) for p in propagators]))
    quiet_header_warnings()  # a client's over-long headers: not one warning per request
    install_response_headers(settings)


def install_response_headers(settings: Settings) -> None:
    """The response propagator for ``OTEL_DISTRO_RESPONSE_HEADERS`` (none when ``off``)."""
    from opentelemetry.instrumentation.propagators import (
        get_global_response_propagator,
        set_global_response_propagator,
    )

    from otel_distro.response_headers import RequestIdResponsePropagator

    mode = settings.response_headers
    if mode == "off":
        if isinstance(get_global_response_propagator(), RequestIdResponsePropagator):  # type: ignore[no-untyped-call]
            set_global_response_propagator(None)  # type: ignore[no-untyped-call]
        return
    set_global_response_propagator(  # type: ignore[no-untyped-call]
        RequestIdResponsePropagator(settings.request_id_header, websocket=mode == "all")
    )


def _trace_context(settings: Settings, inner: TextMapPropagator) -> TextMapPropagator:
    """``OTEL_DISTRO_INBOUND_TRACE_CONTEXT=trusted_peers``: untrusted peers' context is linked."""
    if settings.inbound_trace_context != "trusted_peers":
        return inner
    from otel_distro._inbound_trace import UntrustedTraceContext

    return UntrustedTraceContext(inner, settings.trusted_peers)


def _span_processors(settings: Settings) -> list[SpanProcessor]:
    from otel_distro.processors.access_log import AccessLogSpanProcessor
    from otel_distro.processors.baggage import BaggageAttributesSpanProcessor

    processors: list[SpanProcessor] = [BaggageAttributesSpanProcessor(settings.baggage_attributes)]
    if settings.baggage_signing_keys or settings.baggage_require_signature:
        from otel_distro._signature_events import SignatureViolationSpanProcessor

        processors.append(SignatureViolationSpanProcessor())
    if settings.inbound_trace_context == "trusted_peers":
        from otel_distro._inbound_trace import UntrustedClientLinks

        processors.append(UntrustedClientLinks())
    if settings.access_log:
        processors.append(AccessLogSpanProcessor(settings))
    return processors


def _log_processors(settings: Settings) -> list[LogRecordProcessor]:
    from otel_distro.processors.baggage import BaggageAttributesLogProcessor
    from otel_distro.processors.redaction import RedactingLogRecordProcessor

    return [
        BaggageAttributesLogProcessor(settings.baggage_attributes),
        RedactingLogRecordProcessor(),
    ]


def _export_span_processor(exporter: SpanExporter) -> SpanProcessor:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from otel_distro.exporters._otlp_spans import use_fast_span_encoder
    from otel_distro.exporters.redacting import RedactingSpanExporter

    with guarded("configurator.span_encoder"):
        use_fast_span_encoder()  # byte-identical OTLP, ~4x cheaper in the export thread
    return BatchSpanProcessor(RedactingSpanExporter(exporter))


def _configure_logging(settings: Settings, with_provider: bool) -> None:
    try:
        from otel_distro import logging as distro_logging

        if with_provider:
            from opentelemetry._logs import get_logger_provider

            from otel_distro.logging import use_fast_log_encoder

            use_fast_log_encoder()  # byte-identical OTLP, ~3x cheaper in the export thread
            distro_logging.configure(settings, get_logger_provider(), auto=True)
        else:
            distro_logging.configure(settings, None, auto=True)
    except Exception as exc:
        report(f"log setup failed ({type(exc).__name__}: {exc}); logs go to stderr unchanged")


def configure_sdk(
    settings: Settings | None = None, *, auto_instrumentation_version: str | None = None
) -> None:
    """Wire the SDK with the distro's processors (what the configurator entry point runs)."""
    global _configured_sdk
    from opentelemetry.sdk._configuration import _initialize_components

    settings = settings or get_settings()
    if _configured_sdk:
        return
    _configured_sdk = True
    sdk_disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    if not settings.enable_opentelemetry or sdk_disabled:
        _configure_logging(settings, with_provider=False)
        _start_sentry(settings)  # errors are still reported without OTel export
        return

    install_propagators(settings)
    _hint_service_name()
    overrides = sdk_overrides()
    env = overlaid(overrides)
    names = {signal: exporter_names(signal, env) for signal in SIGNALS}
    if _use_file_fallback(settings, names, env):
        names = {
            signal: [FILE_EXPORTER if n in OTLP_NAMES else n for n in exporters]
            for signal, exporters in names.items()
        }
    overrides.update({EXPORTER_ENV[s]: ",".join(n) or "none" for s, n in names.items()})
    with patched_environ(overrides):  # the SDK reads the corrected variables, then they revert
        _initialize_components(
            auto_instrumentation_version=auto_instrumentation_version,
            sampler=_sampler(settings),
            resource_attributes=_resource_attributes(settings),
            setup_logging_handler=False,
            exporter_args_map=_exporter_args(names, env),
            span_processors=_span_processors(settings),
            export_span_processor=_export_span_processor,  # type: ignore[arg-type]
            log_record_processors=_log_processors(settings),
        )
    try:
        _wrap_metric_exporters()
        _observe_redactions()
        bound_server_metric_attributes()  # before any instrumentor creates its instruments
        # reliability: outages said once, drops counted, final export bounded
        from otel_distro.exporters._reliability import install_reliability

        install_reliability(settings.shutdown_timeout_seconds)
    finally:
        _configure_logging(settings, with_provider=True)
    if settings.flush_on_sigterm:
        from otel_distro.shutdown import install_sigterm_flush

        install_sigterm_flush()
    _start_sentry(settings)


def _start_sentry(settings: Settings) -> None:
    """Sentry (``ENABLE_SENTRY``), after the SDK: it shares the tracer provider."""
    if settings.enable_sentry:
        from otel_distro.errors._sentry import init_sentry

        init_sentry(settings)


def _hint_service_name() -> None:
    """One line at start-up when nothing names the service."""
    from otel_distro.config._service_name import service_name_hint

    hint = service_name_hint(os.environ)
    if hint is not None:
        report(hint)


def _use_file_fallback(
    settings: Settings, names: Mapping[str, list[str]], env: Mapping[str, str]
) -> bool:
    """Files instead of OTLP when no endpoint was set and the default one is down."""
    if not settings.file_fallback or endpoint_explicit(env):
        return False
    if not any(name in OTLP_NAMES for exporters in names.values() for name in exporters):
        return False
    from otel_distro.exporters.files import endpoint_reachable

    endpoints = {default_endpoint(signal, env) for signal in SIGNALS}
    if all(endpoint_reachable(endpoint) for endpoint in endpoints):
        return False
    folder = os.path.abspath(settings.file_fallback_dir)
    report(
        f"no OTLP endpoint was configured and {', '.join(sorted(endpoints))} does not answer: "
        f"writing telemetry as OTLP JSON lines to {folder}/ "
        "(set OTEL_EXPORTER_OTLP_ENDPOINT to export)"
    )
    return True


def _redact_configured(config_file: str) -> None:
    from opentelemetry import metrics, trace
    from opentelemetry._logs import get_logger_provider

    from otel_distro.exporters._config_file import redact_configured

    redact_configured(
        trace.get_tracer_provider(),
        get_logger_provider(),
        metrics.get_meter_provider(),
        config_file,
    )


class OtelDistroConfigurator(_OTelSDKConfigurator):
    """Subclasses the SDK configurator; injects our processors through its hooks."""

    def _configure(self, **kwargs: object) -> None:
        try:
            from otel_distro.shutdown import begin_startup_signals

            begin_startup_signals()  # a SIGINT during start-up ends the process as without us
            from otel_distro.distro import (
                apply_environment_defaults,
                distro_configured,
                warn_if_not_selected,
            )

            if not distro_configured():
                warn_if_not_selected()
                apply_environment_defaults()
            config_file = sdk_config_file()
            if config_file:
                super()._configure(**kwargs)  # type: ignore[no-untyped-call]
                _redact_configured(config_file)  # never export unredacted
                return
            version = kwargs.get("auto_instrumentation_version")
            configure_sdk(
                get_settings(),
                auto_instrumentation_version=version if isinstance(version, str) else None,
            )
        except Exception as exc:
            report(
                f"telemetry setup failed ({type(exc).__name__}: {exc}); "
                "the app runs without (some) telemetry"
            )
