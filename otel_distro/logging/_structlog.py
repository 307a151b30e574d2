"""structlog side: our processor chain, the logger factory, and ``configure`` patching.

Our chain is ``merge_contextvars`` then :class:`FinalProcessor`, which captures
the event for the log worker (``Pipeline.capture``); loggers filter levels up
front (``make_filtering_bound_logger``), so filtered calls are a no-op.  An
application that later calls ``structlog.configure(processors=...)`` gets
:class:`BridgeProcessor` inserted before its last processor (usually the
renderer): its lines keep trace ids and redaction and its events still reach
OpenTelemetry exactly once.

``stack_info=True`` (here and in standard-library records) becomes the
``code.stacktrace`` attribute: the caller's stack, cut like an exception's
stack trace and redacted with the rest of the event.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import structlog
from structlog.contextvars import merge_contextvars

from otel_distro._exception_origin import log_context
from otel_distro.logging._pipeline import LEVELS, Pipeline
from otel_distro.logging._render import Output, render_json
from otel_distro.logging._values import CODE_STACKTRACE, stack_text

__all__ = [
    "CODE_STACKTRACE",
    "BridgeProcessor",
    "FinalProcessor",
    "Holder",
    "call_stack",
    "install",
    "patch_configure",
    "stack_text",
    "take_stack_info",
]

_log = logging.getLogger("otel_distro.logging")
_INFO = LEVELS["info"]
_OWN_KEYS = ("timestamp", "level", "logger")


class Holder:
    """The current pipeline; processors read it per call so ``configure`` can swap it.

    ``root_handler`` is the distro's standard-library handler: chains that end in
    standard-library logging rely on it to emit, and emit themselves when it is gone.
    """

    pipeline: Pipeline | None = None
    root_handler: logging.Handler | None = None


def _root_handler_attached(holder: type[Holder]) -> bool:
    handler = holder.root_handler
    return handler is None or handler in logging.getLogger().handlers


def _report_root_replaced() -> None:
    from otel_distro.config import report

    report(
        "the root logger's handlers were replaced directly (not through logging.config or "
        "logging.basicConfig): standard-library records no longer reach OpenTelemetry; "
        "configure them with logging.config.dictConfig, or call "
        "otel_distro.logging.configure() again afterwards"
    )


# Frames of the logging machinery, skipped to find the caller's frame.
_MACHINERY = ("logging", "structlog")
_MACHINERY_PREFIXES = ("logging.", "structlog.", "otel_distro.logging.")


def call_stack(limit: int) -> str:
    """The stack of the first frame outside logging, structlog and the distro's logs
    package, formatted as the standard library's ``stack_info`` is, bounded to *limit*."""
    frame = sys._getframe(1)
    while frame.f_back is not None:
        name = frame.f_globals.get("__name__")
        if not isinstance(name, str) or not (
            name in _MACHINERY or name.startswith(_MACHINERY_PREFIXES)
        ):
            break
        frame = frame.f_back
    text = "Stack (most recent call last):\n" + "".join(traceback.format_stack(frame))
    return stack_text(text.rstrip("\n"), limit)


def take_stack_info(event_dict: MutableMapping[str, Any], limit: int) -> None:
    """structlog's ``stack_info=True`` (consumed, as ``StackInfoRenderer`` does): the
    caller's stack as ``code.stacktrace``."""
    wanted = event_dict.pop("stack_info", None)
    try:
        wanted = bool(wanted)
    except Exception:  # a value refusing bool(): no stack
        wanted = False
    if wanted:
        event_dict[CODE_STACKTRACE] = call_stack(limit)


_NOTHING: tuple[tuple[()], dict[str, Any]] = ((), {})


class FinalProcessor:
    """Last processor of our chain: capture the event for the log worker.

    Returns empty ``(args, kwargs)`` so the wrapped :class:`Sink` writes nothing;
    the worker renders and writes the line.
    """

    def __init__(self, holder: type[Holder]) -> None:
        self._holder = holder

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> tuple[tuple[()], dict[str, Any]]:
        try:
            pipeline = self._holder.pipeline
            if pipeline is None:
                return _NOTHING
            event = event_dict.pop("event", None)
            exc_info = event_dict.pop("exc_info", None)
            name = getattr(logger, "name", None) or event_dict.pop("logger", None)
            for key in _OWN_KEYS:
                event_dict.pop(key, None)
            if "stack_info" in event_dict:
                take_stack_info(event_dict, pipeline.limit)
            pipeline.capture(
                LEVELS.get(method_name, _INFO),
                name,
                event,
                event_dict,
                exc_info,
                context=log_context(exc_info) if exc_info else None,
            )
        except Exception:  # noqa: S110 - logging never raises into the app
            pass
        return _NOTHING


class BridgeProcessor:
    """For application chains: correlate, redact and emit, then hand the dict on.

    With ``emit=False`` (chains that end in standard-library logging) the OTel
    record is left to our logging handler, so it is still emitted once.
    """

    def __init__(self, holder: type[Holder], emit: bool = True) -> None:
        self._holder = holder
        self.emit = emit

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        try:
            pipeline = self._holder.pipeline
            if pipeline is None:
                return event_dict
            kept = {key: event_dict.pop(key) for key in _OWN_KEYS if key in event_dict}
            event = event_dict.pop("event", None)
            exc_info = event_dict.pop("exc_info", None)
            name = kept.get("logger") or getattr(logger, "name", None)
            level = LEVELS.get(method_name, _INFO)
            # A chain into standard-library logging leaves the record to our root
            # handler; if the application replaced the root handlers, emit here.
            emit = self.emit or not _root_handler_attached(self._holder)
            if emit and not self.emit:
                _report_root_replaced()
            if "stack_info" in event_dict:
                take_stack_info(event_dict, pipeline.limit)
            out = pipeline.finish(
                level,
                name,
                event,
                event_dict,
                exc_info,
                emit=emit,
                context=log_context(exc_info) if exc_info else None,
            )
            for key in _OWN_KEYS:
                out.pop(key, None)
            stack = out.pop("exception.stacktrace", None)
            if stack is not None:
                out["exception"] = stack
            # The names structlog's own processors use (format_exc_info, StackInfoRenderer).
            stack = out.pop(CODE_STACKTRACE, None)
            if stack is not None:
                out["stack"] = stack
            kept.update(out)
            return kept
        except Exception:
            return event_dict


class Sink:
    """The wrapped logger.

    Our chain passes nothing (the log worker writes the line).  An application
    chain installed with ``structlog.configure(processors=[..., JSONRenderer()])``
    but no ``logger_factory`` of its own ends here too: its rendered line is
    written to stdout (and the log file), never dropped.
    """

    def __init__(self, name: str | None, output: Output) -> None:
        self.name = name
        self._output = output

    def write(self, *args: Any, **kwargs: Any) -> None:
        if not args and not kwargs:
            return
        try:
            message: Any = args[0] if args else kwargs
            if isinstance(message, (bytes, bytearray)):
                message = bytes(message).decode("utf-8", "backslashreplace")
            elif isinstance(message, dict):
                message = render_json(message)
            self._output.write_lines([str(message)])
        except Exception:  # noqa: S110 - logging never raises into the app
            pass

    msg = log = debug = info = warning = warn = error = critical = fatal = exception = write


class SinkFactory:
    """structlog ``logger_factory``: ``get_logger(name)`` -> a :class:`Sink`."""

    def __init__(self, output: Output) -> None:
        self._output = output

    def __call__(self, *args: Any) -> Sink:
        name = args[0] if args and isinstance(args[0], str) else None
        return Sink(name, self._output)


_original_configure: Callable[..., None] | None = None
_original_reset: Callable[[], None] | None = None
_installed: tuple[type[Holder], Pipeline, Output] | None = None


def install(holder: type[Holder], pipeline: Pipeline, output: Output) -> None:
    """Configure structlog with our chain (bypassing our own ``configure`` patch)."""
    global _installed
    _installed = (holder, pipeline, output)
    configure = _original_configure or structlog.configure
    configure(
        processors=[merge_contextvars, FinalProcessor(holder)],
        wrapper_class=structlog.make_filtering_bound_logger(pipeline.min_level),
        logger_factory=SinkFactory(output),
        cache_logger_on_first_use=True,
    )


def _is_contrib_handler(processor: object) -> bool:
    kind = type(processor)
    return kind.__name__ == "StructlogHandler" and kind.__module__.startswith(
        "opentelemetry.instrumentation.structlog"
    )


def _ends_in_stdlib(processors: list[Any], logger_factory: Any) -> bool:
    if isinstance(logger_factory, structlog.stdlib.LoggerFactory):
        return True
    if isinstance(logger_factory, SinkFactory):  # nothing reaches standard-library logging
        return False
    last = processors[-1] if processors else None
    return last in (
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        structlog.stdlib.render_to_log_kwargs,
    )


def adapt_processors(
    holder: type[Holder], processors: Iterable[Any], logger_factory: Any
) -> list[Any]:
    """An application's chain with contrib bridges removed and our bridge inserted."""
    chain = list(processors)
    dropped = [p for p in chain if _is_contrib_handler(p)]
    if dropped:
        chain = [p for p in chain if not _is_contrib_handler(p)]
        _log.debug("removed the contrib structlog bridge: otel-distro already emits each event")
    if any(isinstance(p, (FinalProcessor, BridgeProcessor)) for p in chain):
        return chain
    bridge = BridgeProcessor(holder, emit=not _ends_in_stdlib(chain, logger_factory))
    chain.insert(_bridge_position(chain), bridge)
    _log.debug(
        "structlog.configure() from the application: inserted the otel-distro bridge "
        "before its last processor"
    )
    return chain


def _formats_exceptions(processor: object) -> bool:
    return isinstance(
        processor,
        (structlog.processors.ExceptionRenderer, structlog.processors.ExceptionPrettyPrinter),
    )


def _bridge_position(chain: list[Any]) -> int:
    """Before the last processor, or before the first exception formatter if earlier.

    ``format_exc_info``/``dict_tracebacks`` consume ``exc_info``; the bridge must see
    it first so the OTel record gets ``exception.type``/``.message``/``.stacktrace``
    (the formatter then finds the redacted ``exception`` text already in place).
    """
    last = max(len(chain) - 1, 0)
    for index, processor in enumerate(chain[:last]):
        if _formats_exceptions(processor):
            return index
    return last


def patch_configure(holder: type[Holder]) -> None:
    """Make later ``structlog.configure(processors=...)`` calls keep our bridge."""
    global _original_configure
    if _original_configure is not None:
        return
    original = structlog.configure
    _original_configure = original

    def configure(*args: Any, **kwargs: Any) -> None:
        try:
            if args:
                kwargs["processors"], args = args[0], args[1:]
            processors = kwargs.get("processors")
            if processors is not None and holder.pipeline is not None:
                factory = kwargs.get("logger_factory") or structlog.get_config().get(
                    "logger_factory"
                )
                kwargs["processors"] = adapt_processors(holder, processors, factory)
        except Exception:  # noqa: S110 - fall through to the application's own call
            pass
        original(*args, **kwargs)

    configure.__doc__ = original.__doc__
    structlog.configure = configure
    structlog._config.configure = configure  # configure_once() calls this name
    _patch_reset_defaults(holder)


def _patch_reset_defaults(holder: type[Holder]) -> None:
    """``structlog.reset_defaults()`` goes back to the distro's chain, not to a plain
    console logger that would print unredacted, uncorrelated lines and emit nothing."""
    global _original_reset
    original = structlog.reset_defaults
    _original_reset = original

    def reset_defaults() -> None:
        original()
        installed = _installed
        if installed is None or holder.pipeline is None:
            return
        try:
            install(installed[0], holder.pipeline, installed[2])
            structlog._config._CONFIG.is_configured = False  # configure_once() still applies
        except Exception:  # noqa: S110 - the application's reset already happened
            pass

    reset_defaults.__doc__ = original.__doc__
    structlog.reset_defaults = reset_defaults
    structlog._config.reset_defaults = reset_defaults


def unpatch_configure() -> None:
    """Restore structlog's own ``configure`` and ``reset_defaults`` (tests)."""
    global _original_configure, _original_reset
    if _original_configure is None:
        return
    structlog.configure = _original_configure
    structlog._config.configure = _original_configure
    _original_configure = None
    if _original_reset is not None:
        structlog.reset_defaults = _original_reset
        structlog._config.reset_defaults = _original_reset
        _original_reset = None
