"""structlog and standard-library logging, rendered once and emitted to OpenTelemetry once.

Public surface (re-exported by :mod:`otel_distro.logging`):

* :func:`configure` -- set up structlog, the root logger and the OTel emitter
  from :class:`~otel_distro.config.Settings` (idempotent; never raises);
* :func:`get_logger` -- a structlog logger;
* :func:`should_skip_instrumentor` -- whether the distro must not load a contrib
  instrumentor because it would duplicate records;
* :func:`flush` -- complete every queued event now (lines written, records emitted);
* :func:`use_fast_log_encoder` -- make the OTLP/HTTP log exporter encode with the
  direct (byte-identical, faster) encoder; for the configurator to opt in.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from opentelemetry._logs import LoggerProvider

from otel_distro._state import on_reset
from otel_distro.config import Settings, get_settings, report
from otel_distro.exporters._otlp_logs import use_fast_log_encoder
from otel_distro.logging import _excepthooks, _ride, _scrub, _stdlib, _structlog
from otel_distro.logging._emit import SCOPE, Emitter
from otel_distro.logging._guest import guest
from otel_distro.logging._pipeline import LEVELS, Pipeline
from otel_distro.logging._render import Output
from otel_distro.logging._structlog import Holder

__all__ = [
    "SCOPE",
    "configure",
    "flush",
    "get_logger",
    "should_skip_instrumentor",
    "use_fast_log_encoder",
]

_log = logging.getLogger("otel_distro.logging")

# Contrib instrumentors that would emit a second copy of every record.
_DUPLICATING_INSTRUMENTORS = frozenset({"logging", "structlog"})

_emitter = Emitter()
_output = Output()
_handler = _stdlib.RootHandler(Holder)
Holder.root_handler = _handler
_settings: Settings | None = None


def configure(
    settings: Settings | None = None,
    logger_provider: LoggerProvider | None = None,
    *,
    auto: bool = False,
) -> None:
    """Configure logging for the process (safe to call again; later calls re-apply).

    ``logger_provider`` defaults to the global one.  ``auto`` is for the
    ``opentelemetry-instrument`` start-up: a process that is not a known server then
    gets no rendered lines unless ``LOG_LEVEL``, ``OTEL_DISTRO_LOG_STREAM`` or
    ``LOG_TO_FILE`` asks for them.  Problems (an unwritable ``LOG_DIR``, an internal
    error) are reported once and logging carries on.
    """
    global _settings
    try:
        settings = settings if settings is not None else get_settings()
        _settings = settings
        guest.configure(settings, auto)
        _emitter.set_provider(logger_provider)
        _output.stream = settings.log_stream
        if settings.log_to_file:
            problem = _output.open_file(
                settings.log_dir,
                settings.log_file_name,
                settings.log_file_max_bytes,
                settings.log_file_backup_count,
            )
            if problem:
                report(problem)
        else:
            _output.close_file()
        pipeline = Pipeline(settings, _emitter, _output)
        Holder.pipeline = pipeline
        _scrub.install(_stdlib.RESERVED, pipeline.limit, _handler)
        _ride.install()
        _structlog.patch_configure()
        _install_structlog(pipeline)
        _readopt(None)
        _stdlib.patch_logging_config(_readopt, _handler)
        _excepthooks.install(_export_uncaught)
    except Exception as exc:  # never break application start-up
        report(f"logging setup failed ({type(exc).__name__}: {exc}); logs may be incomplete")


def _install_structlog(pipeline: Pipeline) -> None:
    """The distro's chain, while the application has not configured structlog itself
    and the distro writes lines (a CLI keeps structlog's defaults, bridged)."""
    if structlog.is_configured() and not _structlog.installed():
        return  # the application's own configuration
    if guest.lines():
        _structlog.install(Holder, pipeline, _output)


def _export_uncaught(name: str, exc_info: object) -> None:
    """An uncaught exception (sys.excepthook): one FATAL record, exported, no line."""
    pipeline = Holder.pipeline
    if pipeline is None:
        return
    pipeline.capture(LEVELS["critical"], name, "Uncaught exception", None, exc_info, write=False)
    _emitter.flush()


def _readopt(before: int | None) -> None:
    pipeline = Holder.pipeline
    if pipeline is None or _settings is None:
        return
    from otel_distro.processors.access_log import is_active

    _stdlib.adopt(_handler, pipeline.min_level, drop_access_log=is_active(), before=before)
    if before is not None and not _structlog.installed() and not structlog.is_configured():
        _install_structlog(pipeline)  # a server found late (uvicorn.run in a script)


def own_lines() -> bool:
    """Whether records the distro adds itself (access log, outbound calls) get a line."""
    return guest.own_lines(_handler)


def get_logger(name: str | None = None, **initial_values: Any) -> Any:
    """A structlog logger bound to *name* (``logger.info("event", key=value)``)."""
    if name is None:
        return structlog.get_logger(**initial_values)
    return structlog.get_logger(name, **initial_values)


def should_skip_instrumentor(entry_point_name: str) -> bool:
    """True for the contrib ``logging``/``structlog`` instrumentors (they would duplicate)."""
    if entry_point_name in _DUPLICATING_INSTRUMENTORS:
        _log.debug(
            "not loading the %r instrumentor: otel-distro already bridges it into "
            "OpenTelemetry once",
            entry_point_name,
        )
        return True
    return False


def flush() -> None:
    """Complete every queued event now (the provider's force_flush/shutdown also do this)."""
    _emitter.flush()


def reset() -> None:
    """Undo :func:`configure` (tests): structlog defaults, root handler, patched functions."""
    global _settings
    _emitter.flush()
    Holder.pipeline = None
    _settings = None
    _output.close_file()
    _output.stream = "stdout"
    guest.reset()
    _ride.uninstall()
    _structlog.unpatch_configure()
    _scrub.uninstall()
    _excepthooks.uninstall()
    _stdlib.unpatch_logging_config()
    logging.getLogger().removeHandler(_handler)
    structlog.reset_defaults()


on_reset("logging", reset)
