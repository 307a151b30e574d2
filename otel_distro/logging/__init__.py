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
import threading
from typing import Any

import structlog
from opentelemetry._logs import LoggerProvider

from otel_distro._state import on_reset
from otel_distro.config import Settings, get_settings, report
from otel_distro.exporters._otlp_logs import use_fast_log_encoder
from otel_distro.logging import _stdlib, _structlog
from otel_distro.logging._emit import SCOPE, Emitter
from otel_distro.logging._pipeline import Pipeline
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
    settings: Settings | None = None, logger_provider: LoggerProvider | None = None
) -> None:
    """Configure logging for the process (safe to call again; later calls re-apply).

    ``logger_provider`` defaults to the global one.  Problems (an unwritable
    ``LOG_DIR``, an internal error) are reported once and logging carries on.
    """
    global _settings
    try:
        settings = settings if settings is not None else get_settings()
        _settings = settings
        _emitter.set_provider(logger_provider)
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
        _structlog.install(Holder, pipeline, _output)
        _structlog.patch_configure(Holder)
        _readopt()
        _stdlib.patch_logging_config(_readopt)
        _install_thread_hook()
    except Exception as exc:  # never break application start-up
        report(f"logging setup failed ({type(exc).__name__}: {exc}); logs may be incomplete")


_default_thread_hook = threading.excepthook


def _thread_excepthook(args: Any) -> None:
    """Uncaught exceptions in threads: one redacted ERROR record instead of raw stderr."""
    if Holder.pipeline is None:
        _default_thread_hook(args)
        return
    if args.exc_type is SystemExit:
        return
    name = getattr(args.thread, "name", None) or "unknown"
    logging.getLogger("threading").error(
        "Exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _install_thread_hook() -> None:
    """Route uncaught thread exceptions through the pipeline (unless the app set a hook)."""
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _thread_excepthook


def _readopt() -> None:
    pipeline = Holder.pipeline
    if pipeline is None or _settings is None:
        return
    from otel_distro.processors.access_log import is_active

    _stdlib.adopt(_handler, pipeline.min_level, drop_access_log=is_active())
    # LOG_LEVEL also applies to loggers with a level of their own (uvicorn's are INFO).
    _handler.setLevel(pipeline.min_level)


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
    _structlog.unpatch_configure()
    _stdlib.unpatch_logging_config()
    logging.getLogger().removeHandler(_handler)
    if threading.excepthook is _thread_excepthook:
        threading.excepthook = threading.__excepthook__
    structlog.reset_defaults()


on_reset("logging", reset)
