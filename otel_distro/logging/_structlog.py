"""structlog side: the distro's processor chain and its logger factory.

Our chain is ``merge_contextvars`` then :class:`FinalProcessor`, which captures
the event for the log worker (``Pipeline.capture``); loggers filter levels up
front (``make_filtering_bound_logger``), so filtered calls are a no-op.  It is
installed as structlog's configuration until the application configures structlog
itself; chains the application builds are bridged by :mod:`otel_distro.logging._ride`
without a processor of ours in them.

``stack_info=True`` (here and in standard-library records) becomes the
``code.stacktrace`` attribute: the caller's stack, cut like an exception's
stack trace and redacted with the rest of the event.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable

import structlog
from structlog.contextvars import merge_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

from otel_distro._exception_origin import log_context
from otel_distro._report import internal_error
from otel_distro.logging._pipeline import LEVELS, Pipeline
from otel_distro.logging._render import Output, render_json
from otel_distro.logging._values import CODE_STACKTRACE, stack_text

__all__ = [
    "CODE_STACKTRACE",
    "FinalProcessor",
    "Holder",
    "Sink",
    "SinkFactory",
    "call_stack",
    "contrib_processor",
    "install",
    "installed",
    "patch_configure",
    "stack_text",
    "take_stack_info",
    "unpatch_configure",
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


def take_stack_info(event_dict: EventDict, limit: int) -> None:
    """structlog's ``stack_info=True`` (consumed, as ``StackInfoRenderer`` does): the
    caller's stack as ``code.stacktrace``."""
    wanted = event_dict.pop("stack_info", None)
    try:
        wanted = bool(wanted)
    except Exception:  # a value refusing bool(): no stack
        wanted = False
    if wanted:
        event_dict[CODE_STACKTRACE] = call_stack(limit)


_NOTHING: tuple[tuple[()], dict[str, object]] = ((), {})


class FinalProcessor:
    """Last processor of our chain: capture the event for the log worker.

    Returns empty ``(args, kwargs)`` so the wrapped :class:`Sink` writes nothing;
    the worker renders and writes the line.
    """

    def __init__(self, holder: type[Holder]) -> None:
        self._holder = holder

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> tuple[tuple[()], dict[str, object]]:
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
        except Exception:  # logging never raises into the app
            internal_error("logging.structlog_capture")
        return _NOTHING


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

    def write(self, *args: object, **kwargs: object) -> None:
        if not args and not kwargs:
            return
        try:
            message: object = args[0] if args else kwargs
            if isinstance(message, (bytes, bytearray)):
                message = bytes(message).decode("utf-8", "backslashreplace")
            elif isinstance(message, dict):
                message = render_json(message)
            self._output.write_lines([str(message)])
        except Exception:  # noqa: S110 - the application's message refuses str() or decoding
            pass

    msg = log = debug = info = warning = warn = error = critical = fatal = exception = write


class SinkFactory:
    """structlog ``logger_factory``: ``get_logger(name)`` -> a :class:`Sink`."""

    def __init__(self, output: Output) -> None:
        self._output = output

    def __call__(self, *args: object) -> Sink:
        name = args[0] if args and isinstance(args[0], str) else None
        return Sink(name, self._output)


_installed: list[list[Processor] | None] = [None]


def install(holder: type[Holder], pipeline: Pipeline, output: Output) -> None:
    """Configure structlog with our chain; ``is_configured()`` stays False, so the
    application's ``configure_once`` still applies."""
    from otel_distro.logging import _ride

    processors: list[Processor] = [merge_contextvars, FinalProcessor(holder)]
    configure = _original_configure[0] if _original_configure else structlog.configure
    configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(pipeline.min_level),
        logger_factory=SinkFactory(output),
        cache_logger_on_first_use=True,
    )
    structlog._config._CONFIG.is_configured = False
    _installed[0] = processors
    _ride.set_own(processors)


_original_configure: list[Callable[..., None]] = []


_CONTRIB_MODULE = "opentelemetry.instrumentation.structlog"
_CONTRIB_NAMES = frozenset({"StructlogProcessor", "StructlogHandler"})


def contrib_processor(processor: object) -> bool:
    """Whether *processor* is the contrib structlog instrumentation's (it would emit a
    second, unredacted copy of each event)."""
    kind = type(processor)
    return kind.__name__ in _CONTRIB_NAMES and kind.__module__.startswith(_CONTRIB_MODULE)


def _ours_with_contrib(args: tuple[object, ...], kwargs: dict[str, object]) -> bool:
    """Whether a ``configure`` call sets the distro's own chain plus contrib processors
    only: ``StructlogInstrumentor().instrument()`` after the distro configured structlog."""
    own = _installed[0]
    processors = kwargs.get("processors")
    if own is None or args or set(kwargs) != {"processors"} or not installed():
        return False
    if not isinstance(processors, (list, tuple)):
        return False
    kept = [p for p in processors if not contrib_processor(p)]
    return (
        len(kept) < len(processors)
        and len(kept) == len(own)
        and all(a is b for a, b in zip(kept, own, strict=True))
    )


def _configure(*args: object, **kwargs: object) -> None:
    """``structlog.configure``: over the distro's chain, the application starts from
    structlog's defaults, so what it does not pass is what it would be without the distro.
    The contrib instrumentor adding its processor to the distro's chain changes nothing
    (the distro already emits each event once, redacted)."""
    try:
        if _ours_with_contrib(args, kwargs):
            _log.debug("the contrib structlog processor is not added: otel-distro emits once")
            return
        if installed():
            structlog.reset_defaults()
    except Exception:  # noqa: S110 - the application's own call goes on regardless
        pass
    _original_configure[0](*args, **kwargs)


def patch_configure() -> None:
    """Install :func:`_configure` as ``structlog.configure`` (idempotent)."""
    if _original_configure:
        return
    _original_configure.append(structlog.configure)
    _configure.__doc__ = structlog.configure.__doc__
    structlog.configure = _configure
    structlog._config.configure = _configure  # configure_once() calls this name


def unpatch_configure() -> None:
    """Restore structlog's own ``configure`` (tests)."""
    if not _original_configure:
        return
    original = _original_configure.pop()
    structlog.configure = original
    structlog._config.configure = original


def installed() -> bool:
    """Whether structlog's configuration is still the one :func:`install` made."""
    return _installed[0] is not None and (structlog.get_config().get("processors") is _installed[0])
