"""The ``opentelemetry_configurator`` entry point: settings -> providers -> processors -> exporters.

Data path for each signal (everything before an exporter runs in-process):

* spans: tenant/baggage copier (request thread) -> batch processor ->
  redacting exporter wrapper (export thread) -> OTLP or file exporter;
* logs: structlog/stdlib bridge (redacts once) -> tenant copier -> redaction
  for foreign records -> batch processor -> OTLP or file exporter;
* metrics: periodic reader -> redacting exporter wrapper -> OTLP or file exporter.

Our failures never reach the app: a broken setup is reported in one line and
the app runs with less (or no) telemetry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from otel_distro.config import Settings, get_settings, report

__all__ = ["OtelDistroConfigurator", "configure_sdk"]

_SIGNALS = ("traces", "metrics", "logs")
_EXPORTER_ENV = {signal: f"OTEL_{signal.upper()}_EXPORTER" for signal in _SIGNALS}
_ENDPOINT_ENV = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    *(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT" for signal in _SIGNALS),
)
_PROTOCOL_ENV = (
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    *(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL" for signal in _SIGNALS),
)
_HEADERS_ENV = (
    "OTEL_EXPORTER_OTLP_HEADERS",
    *(f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS" for signal in _SIGNALS),
)
_PROTOCOLS = ("http/protobuf", "grpc")
_OTLP_NAMES = ("otlp", "otlp_proto_http", "otlp_proto_grpc")
FILE_EXPORTER = "otel_distro_file"
DEFAULT_HTTP_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"
_configured_sdk = False


@contextmanager
def _environ(overrides: Mapping[str, str | None]) -> Iterator[None]:
    """Temporarily set (or, for None, unset) variables; restored so child processes
    see the user's values."""
    saved = {name: os.environ.get(name) for name in overrides}
    for name, value in overrides.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _exporter_entry_points(signal: str) -> set[str]:
    from importlib.metadata import entry_points

    return {ep.name for ep in entry_points(group=f"opentelemetry_{signal}_exporter")}


def _valid_protocol_overrides() -> dict[str, str | None]:
    overrides: dict[str, str | None] = {}
    for name in _PROTOCOL_ENV:
        value = os.environ.get(name)
        if value is not None and value.strip() not in _PROTOCOLS:
            report(
                f"{name}={value!r} is not valid: expected one of {', '.join(_PROTOCOLS)}; "
                "using http/protobuf"
            )
            overrides[name] = "http/protobuf"
    return overrides


def _signal_protocol_variable(name: str) -> str:
    """The protocol variable that applies to an endpoint/headers variable."""
    for signal in _SIGNALS:
        if f"_{signal.upper()}_" in name:
            return f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL"
    return "OTEL_EXPORTER_OTLP_PROTOCOL"


def _endpoint_problem(value: str, grpc: bool) -> str | None:
    """Why an OTLP endpoint cannot be used, or None when it looks usable."""
    text = value.strip()
    if any(char.isspace() or ord(char) < 0x20 for char in text):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return str(exc)
    if parts.scheme in ("http", "https"):
        return None if parts.hostname else "it has no host"
    if grpc:  # the gRPC exporter also accepts host:port
        host, _, port = text.rpartition(":")
        if host and port.isdigit():
            return None
    return "it is not an http:// or https:// URL"


def _valid_endpoint_overrides() -> dict[str, str | None]:
    """Unset (and report) OTLP endpoint variables that no exporter could use.

    The SDK takes any string and then fails silently on every export; treated as
    unset, the default endpoint (and the file fallback) still apply.
    """
    overrides: dict[str, str | None] = {}
    for name in _ENDPOINT_ENV:
        value = os.environ.get(name)
        if value is None or not value.strip():
            continue
        protocol_variable = _signal_protocol_variable(name)
        protocol = (
            os.environ.get(protocol_variable) or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
        )
        problem = _endpoint_problem(value, protocol.strip() == "grpc")
        if problem is None:
            continue
        shown = "<redacted>" if "@" in value else repr(value)
        report(
            f"{name}={shown} is not valid ({problem}): expected a URL such as "
            f"http://collector:4318; ignoring it"
        )
        overrides[name] = None
    return overrides


_OTLP_HEADER_ITEM = re.compile(
    r"[ \t]*[\x21\x23-\x27\x2a\x2b\x2d\x2e\x30-\x39\x41-\x5a\x5e-\x7a\x7c\x7e]+[ \t]*="
    r"[ \t]*[\x20\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*[ \t]*"
)


def _valid_header_overrides() -> dict[str, str]:
    """Drop (and report once) malformed members of the OTLP headers variables.

    The SDK warns once per exporter and echoes the value, which may hold credentials;
    this says it once, names the variable, and never shows the value.
    """
    overrides: dict[str, str] = {}
    for name in _HEADERS_ENV:
        value = os.environ.get(name)
        if value is None or not value.strip():
            continue
        members = [m for m in re.split(r"[ \t]*,[ \t]*", value) if m.strip()]
        valid = [m for m in members if _OTLP_HEADER_ITEM.fullmatch(m.strip())]
        if len(valid) == len(members):
            continue
        bad = len(members) - len(valid)
        report(
            f"{name}=<redacted> has {bad} malformed entr{'y' if bad == 1 else 'ies'}: "
            "expected comma-separated name=value pairs (values URL-encoded); ignoring "
            f"{'it' if bad == 1 else 'them'}"
        )
        overrides[name] = ",".join(valid)
    return overrides


_BATCH_PREFIXES = ("OTEL_BSP", "OTEL_BLRP")  # span and log batch processors
_DEFAULT_QUEUE = 2048
_DEFAULT_BATCH = 512


def _int_or_none(raw: str | None, low: int) -> int | None:
    try:
        value = int((raw or "").strip())
    except ValueError:
        return None
    return value if value >= low else None


def _number_or_none(raw: str | None, positive: bool) -> float | None:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None
    if value != value or value < 0 or (positive and value == 0):  # nan, negative, zero
        return None
    return value


def _valid_batch_overrides() -> dict[str, str | None]:
    """Batch-processor and metric-reader numbers the SDK would refuse, reported and replaced.

    The SDK raises on a non-positive queue, batch or delay, and on a batch larger than
    the queue (``OTEL_BSP_MAX_QUEUE_SIZE=100`` alone does, the default batch being
    512): telemetry setup would fail as a whole for one tuning value.
    """
    overrides: dict[str, str | None] = {}

    def check(name: str, ok: bool, expected: str) -> None:
        raw = os.environ.get(name)
        if raw is None or ok:
            return
        report(f"{name}={raw!r} is not valid: expected {expected}; using the default")
        overrides[name] = None

    for prefix in _BATCH_PREFIXES:
        for suffix in ("SCHEDULE_DELAY", "MAX_QUEUE_SIZE", "MAX_EXPORT_BATCH_SIZE"):
            name = f"{prefix}_{suffix}"
            check(name, _int_or_none(os.environ.get(name), 1) is not None, "a positive integer")
        name = f"{prefix}_EXPORT_TIMEOUT"
        check(name, _int_or_none(os.environ.get(name), 0) is not None, "an integer >= 0")
        queue_name, batch_name = f"{prefix}_MAX_QUEUE_SIZE", f"{prefix}_MAX_EXPORT_BATCH_SIZE"
        queue = (
            None if queue_name in overrides else _int_or_none(os.environ.get(queue_name), 1)
        ) or _DEFAULT_QUEUE
        batch = (
            None if batch_name in overrides else _int_or_none(os.environ.get(batch_name), 1)
        ) or _DEFAULT_BATCH
        if batch > queue:
            given = batch_name not in overrides and os.environ.get(batch_name)
            culprit = batch_name if given else queue_name
            report(
                f"{culprit}={os.environ.get(culprit)!r} does not fit: {batch_name} ({batch}) "
                f"must not exceed {queue_name} ({queue}); using a batch size of {queue}"
            )
            overrides[batch_name] = str(queue)
    check(
        "OTEL_METRIC_EXPORT_INTERVAL",
        _number_or_none(os.environ.get("OTEL_METRIC_EXPORT_INTERVAL"), positive=True) is not None,
        "a positive number of milliseconds",
    )
    check(
        "OTEL_METRIC_EXPORT_TIMEOUT",
        _number_or_none(os.environ.get("OTEL_METRIC_EXPORT_TIMEOUT"), positive=False) is not None,
        "a number of milliseconds >= 0",
    )
    return overrides


def _valid_id_generator_overrides() -> dict[str, str | None]:
    """An unknown ``OTEL_PYTHON_ID_GENERATOR`` fails the SDK setup as a whole: report it."""
    from importlib.metadata import entry_points

    raw = os.environ.get("OTEL_PYTHON_ID_GENERATOR")
    if raw is None or not raw.strip():
        return {}
    known = {ep.name for ep in entry_points(group="opentelemetry_id_generator")} | {"random"}
    if raw.strip() in known:
        return {}
    report(
        f"OTEL_PYTHON_ID_GENERATOR={raw!r} is not valid: expected one of "
        f"{', '.join(sorted(known))}; using random"
    )
    return {"OTEL_PYTHON_ID_GENERATOR": None}


def _exporter_names(signal: str) -> list[str]:
    """The user's exporter names for a signal, unknown names reported and dropped."""
    variable = _EXPORTER_ENV[signal]
    raw = os.environ.get(variable, "otlp")
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names or names == ["none"]:
        return []
    known = _exporter_entry_points(signal) | {"otlp"}
    valid = [name for name in names if name in known]
    for name in names:
        if name not in known:
            report(
                f"{variable}={raw!r} names an unknown exporter {name!r}: expected one of "
                f"{', '.join(sorted(known | {'none'}))}; ignoring it"
            )
    return valid


def _protocol(signal: str) -> str:
    value = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    return value.strip() if value.strip() in _PROTOCOLS else "http/protobuf"


def _endpoint_explicit() -> bool:
    return any(os.environ.get(name, "").strip() for name in _ENDPOINT_ENV)


def _default_endpoint(signal: str) -> str:
    return DEFAULT_GRPC_ENDPOINT if _protocol(signal) == "grpc" else DEFAULT_HTTP_ENDPOINT


def _exporter_args(names: dict[str, list[str]]) -> dict[type, dict[str, Any]]:
    """Point the OTLP exporters at 127.0.0.1 (not ``localhost``, which may be ::1)."""
    args: dict[type, dict[str, Any]] = {}
    if _endpoint_explicit():
        return args
    for signal, exporters in names.items():
        if not any(name in _OTLP_NAMES for name in exporters):
            continue
        grpc = _protocol(signal) == "grpc"
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


def _resource_attributes(settings: Settings) -> dict[str, Any]:
    from otel_distro import __version__

    attributes: dict[str, Any] = {
        "deployment.environment.name": settings.environment,
        "telemetry.distro.name": "otel-distro",
        "telemetry.distro.version": __version__,
    }
    resource_env = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if settings.service_version and "service.version=" not in resource_env:
        attributes["service.version"] = settings.service_version
    return attributes


_BUILTIN_SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


def _sampler_choice() -> tuple[str | None, dict[str, str | None]]:
    """The sampler name from ``OTEL_TRACES_SAMPLER`` (None: the default) and env overrides.

    Unknown names and unusable ratios are reported here, naming the variable, rather
    than by the SDK's warning (which names neither variable nor what is allowed).
    """
    from importlib.metadata import entry_points

    raw = os.environ.get("OTEL_TRACES_SAMPLER")
    if raw is None or not raw.strip():
        return None, {}
    name = raw.strip()
    known = set(_BUILTIN_SAMPLERS) | {
        ep.name for ep in entry_points(group="opentelemetry_traces_sampler")
    }
    if name not in known:
        report(
            f"OTEL_TRACES_SAMPLER={raw!r} is not valid: expected one of "
            f"{', '.join(sorted(known))}; using parentbased_always_on"
        )
        return None, {}
    if name not in _RATIO_SAMPLERS:
        return name, {}
    arg = os.environ.get("OTEL_TRACES_SAMPLER_ARG")
    if arg is None or not arg.strip():
        return name, {"OTEL_TRACES_SAMPLER_ARG": "1.0"}
    try:
        rate = float(arg)
    except ValueError:
        rate = float("nan")
    if not 0.0 <= rate <= 1.0:
        report(
            f"OTEL_TRACES_SAMPLER_ARG={arg!r} is not valid for {name}: expected a number "
            "from 0.0 to 1.0; using 1.0"
        )
        return name, {"OTEL_TRACES_SAMPLER_ARG": "1.0"}
    return name, {}


def _sampler(settings: Settings) -> Any:
    from opentelemetry.sdk._configuration import _import_sampler
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    from otel_distro.processors.sampling import DropAsgiInternalSpans

    name, overrides = _sampler_choice()
    with _environ(overrides):
        inner = _import_sampler(name) or ParentBased(ALWAYS_ON)
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

    from opentelemetry.instrumentation.propagators import set_global_response_propagator
    from opentelemetry.propagate import set_global_textmap
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from otel_distro.propagation import (
        ContainedPropagator,
        RequestIdResponsePropagator,
        TrustedBaggagePropagator,
    )

    raw = os.environ.get("OTEL_PROPAGATORS", "tracecontext,baggage")
    propagators: list[TextMapPropagator] = []
    for name in (item.strip().lower() for item in raw.split(",")):
        if not name or name == "none":
            continue
        if name == "tracecontext":
            propagators.append(TraceContextTextMapPropagator())
        elif name == "baggage":
            propagators.append(TrustedBaggagePropagator(settings))
        else:
            found = [ep for ep in entry_points(group="opentelemetry_propagator") if ep.name == name]
            try:
                propagators.append(found[0].load()())
            except Exception:
                report(
                    f"OTEL_PROPAGATORS={raw!r} names {name!r}, which cannot be loaded; skipping it"
                )
    set_global_textmap(CompositePropagator([ContainedPropagator(p) for p in propagators]))
    set_global_response_propagator(  # type: ignore[no-untyped-call]
        RequestIdResponsePropagator(settings.request_id_header)
    )


def _span_processors(settings: Settings) -> list[Any]:
    from otel_distro.processors.baggage import BaggageAttributesSpanProcessor

    processors: list[Any] = [BaggageAttributesSpanProcessor(settings.baggage_attributes)]
    try:
        from otel_distro.processors.access_log import AccessLogSpanProcessor

        if settings.access_log:
            processors.append(AccessLogSpanProcessor(settings))
    except ImportError:
        pass
    return processors


def _log_processors(settings: Settings) -> list[Any]:
    from otel_distro.processors.baggage import BaggageAttributesLogProcessor
    from otel_distro.processors.redaction import RedactingLogRecordProcessor

    return [
        BaggageAttributesLogProcessor(settings.baggage_attributes),
        RedactingLogRecordProcessor(),
    ]


def _export_span_processor(exporter: Any) -> Any:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from otel_distro.exporters.redacting import RedactingSpanExporter

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


def configure_sdk(settings: Settings | None = None, **kwargs: Any) -> None:
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
        return

    install_propagators(settings)
    overrides = _valid_protocol_overrides()
    overrides.update(_valid_header_overrides())
    overrides.update(_valid_batch_overrides())
    overrides.update(_valid_id_generator_overrides())
    with _environ(overrides):
        overrides.update(_valid_endpoint_overrides())
    with _environ(overrides):
        names = {signal: _exporter_names(signal) for signal in _SIGNALS}
        fallback = _use_file_fallback(settings, names)
        if fallback:
            names = {
                signal: [FILE_EXPORTER if n in _OTLP_NAMES else n for n in exporters]
                for signal, exporters in names.items()
            }
        overrides.update({_EXPORTER_ENV[s]: ",".join(n) or "none" for s, n in names.items()})
    with _environ(overrides):
        _initialize_components(
            auto_instrumentation_version=kwargs.get("auto_instrumentation_version"),
            sampler=_sampler(settings),
            resource_attributes=_resource_attributes(settings),
            setup_logging_handler=False,
            exporter_args_map=_exporter_args(names),
            span_processors=_span_processors(settings),
            export_span_processor=_export_span_processor,  # type: ignore[arg-type]
            log_record_processors=_log_processors(settings),
        )
    try:
        _wrap_metric_exporters()
        _observe_redactions()
    finally:
        _configure_logging(settings, with_provider=True)
    if settings.flush_on_sigterm:
        from otel_distro.shutdown import install_sigterm_flush

        install_sigterm_flush()
    if settings.enable_sentry:
        from otel_distro.errors._sentry import init_sentry

        init_sentry(settings)


def _use_file_fallback(settings: Settings, names: dict[str, list[str]]) -> bool:
    """Files instead of OTLP when no endpoint was set and the default one is down."""
    if not settings.file_fallback or _endpoint_explicit():
        return False
    if not any(name in _OTLP_NAMES for exporters in names.values() for name in exporters):
        return False
    from otel_distro.exporters.files import endpoint_reachable

    endpoints = {_default_endpoint(signal) for signal in _SIGNALS}
    if all(endpoint_reachable(endpoint) for endpoint in endpoints):
        return False
    folder = os.path.abspath(settings.file_fallback_dir)
    report(
        f"no OTLP endpoint was configured and {', '.join(sorted(endpoints))} does not answer: "
        f"writing telemetry as OTLP JSON lines to {folder}/ "
        "(set OTEL_EXPORTER_OTLP_ENDPOINT to export)"
    )
    return True


class OtelDistroConfigurator(_OTelSDKConfigurator):
    """Subclasses the SDK configurator; injects our processors through its hooks."""

    def _configure(self, **kwargs: Any) -> None:
        try:
            from otel_distro.distro import (
                apply_environment_defaults,
                distro_configured,
                warn_if_not_selected,
            )

            if not distro_configured():
                warn_if_not_selected()
                apply_environment_defaults()
            config_file = os.environ.get("OTEL_CONFIG_FILE", "").strip()
            if config_file:
                report(
                    f"OTEL_CONFIG_FILE={config_file!r} is set: the SDK configures itself from "
                    "that file and otel-distro's redaction, tenant and log processors are NOT "
                    "installed (unset it to use them)"
                )
                super()._configure(**kwargs)  # type: ignore[no-untyped-call]
                return
            configure_sdk(get_settings(), **kwargs)
        except Exception as exc:
            report(
                f"telemetry setup failed ({type(exc).__name__}: {exc}); "
                "the app runs without (some) telemetry"
            )
