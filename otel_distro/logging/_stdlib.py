"""Standard-library logging: one root handler that exports records like structlog does.

Records from uvicorn, httpx, aio-pika and the rest reach :class:`RootHandler` and
are emitted to OpenTelemetry once (an exception that escaped a request, logged by
the server after its span ended, gets that request's ids and context back:
:mod:`otel_distro._exception_origin`).  The handler writes a rendered line only
while the application has no handler of its own on the root logger and the distro
writes lines at all (:mod:`otel_distro.logging._guest`); the application's
handlers, formatters, filters and levels are never touched.  OTel logging handlers
installed by the SDK (``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED``) or the
contrib logging instrumentation are removed (also when the application calls
``LoggingInstrumentor().instrument()`` itself), and uvicorn's own console handlers
are folded into the root path, also after a later ``dictConfig``/``basicConfig``.

Mapping arguments (``info("%(password)s", {...})``) are redacted by key before
they are formatted into the message, where their keys would be lost.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_value

from otel_distro._exception_origin import log_context
from otel_distro._report import internal_error
from otel_distro.logging._guest import app_handlers, guest, handled_elsewhere
from otel_distro.logging._pipeline import severity
from otel_distro.logging._scrub import RECORD_REPORT, Entries, redact_record
from otel_distro.logging._servers import fold_servers, is_otel_handler, unfold_servers, unfolded
from otel_distro.logging._structlog import CODE_STACKTRACE, Holder, stack_text, take_stack_info
from otel_distro.logging._values import safe_str

__all__ = [
    "RESERVED",
    "RootHandler",
    "adopt",
    "message_of",
    "patch_logging_config",
    "unpatch_logging_config",
]

_log = logging.getLogger("otel_distro.logging")
_busy: contextvars.ContextVar[bool] = contextvars.ContextVar("otel_distro_logging", default=False)

# Attributes every logging.LogRecord has; anything else came from ``extra=``.
RESERVED = _RESERVED = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {"message", "asctime", "taskName", "_logger", "_name", "_from_structlog", "_record"}
    | {"color_message", RECORD_REPORT}  # uvicorn's ANSI-coloured copy; what was redacted
    # the contrib logging instrumentation's record factory (ids we set ourselves)
    | {"otelSpanID", "otelTraceID", "otelTraceSampled", "otelServiceName"}
)
# Loggers whose records are rendered but never emitted (the SDK's own warnings
# would otherwise feed back into the export pipeline).
_NO_EMIT_PREFIXES = ("opentelemetry",)


class RootHandler(logging.Handler):
    """Root-logger handler: emit the record to OpenTelemetry once, and render it as a
    line while the distro writes the standard-library lines (see the module docstring)."""

    def __init__(self, holder: type[Holder]) -> None:
        super().__init__(logging.NOTSET)
        self._holder = holder

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit without the handler lock: ``emit`` only queues (thread-safe),
        and not locking avoids a lock-order cycle with the log worker."""
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        pipeline = self._holder.pipeline
        if pipeline is None or _busy.get():
            return
        token = _busy.set(True)
        write = True
        try:
            write = guest.own_lines(self)
            event, values, exc_info = _event_of(record, pipeline.limit)
            emit = not (
                record.name.startswith(_NO_EMIT_PREFIXES)
                or get_value(_SUPPRESS_INSTRUMENTATION_KEY)
            )
            earlier = record.__dict__.get(RECORD_REPORT)
            carried = isinstance(earlier, Entries)  # redacted on the record, carry stepped
            pipeline.capture(
                severity(record.levelno),
                record.name,
                event,
                values,
                exc_info,
                ts_ns=int(record.created * 1e9),
                context=log_context(exc_info) if exc_info else None,
                emit=emit,
                write=write,
                redacted=tuple(earlier) if isinstance(earlier, Entries) else (),
                carried=carried,
            )
        except Exception:  # logging never raises into the app
            internal_error("logging.stdlib_emit")
        finally:
            _busy.reset(token)
        if not write:
            _last_resort(record, self)


def _last_resort(record: logging.LogRecord, ours: logging.Handler) -> None:
    """What logging does when no handler takes a record (WARNING and above on stderr),
    kept although our handler is on the root logger (the record is redacted already)."""
    last = logging.lastResort
    if last is None or record.levelno < last.level:
        return
    try:
        if not handled_elsewhere(record, ours):
            pipeline = ours._holder.pipeline  # type: ignore[attr-defined]
            if pipeline is not None:  # nobody else read it: not redacted yet
                redact_record(record, _RESERVED, pipeline.limit)
            last.handle(record)
    except Exception:  # logging never raises into the app
        internal_error("logging.last_resort")


def message_of(record: logging.LogRecord, limit: int) -> str:
    """The record's message: formatted, leniently when its arguments do not fit, and
    with a mapping argument redacted by key."""
    args = record.args
    if args and type(args) is not tuple:  # a mapping, normally
        return _formatted(record, args, limit, failed=False)
    try:
        return record.getMessage()
    except Exception:  # the application's arguments do not format: leniently
        return _formatted(record, args, limit, failed=True)


def _event_of(record: logging.LogRecord, limit: int) -> tuple[object, dict[str, object], object]:
    msg = record.msg
    if not record.args and isinstance(msg, dict):
        return _wrapped_event(record, msg, limit)
    event = message_of(record, limit)
    values = {k: v for k, v in record.__dict__.items() if k not in _RESERVED}
    stack = record.stack_info
    if stack:
        text = stack if type(stack) is str else safe_str(stack, limit)
        values[CODE_STACKTRACE] = stack_text(text, limit)
    return event, values, record.exc_info


def _wrapped_event(
    record: logging.LogRecord, msg: dict[str, object], limit: int
) -> tuple[object, dict[str, object], object]:
    """structlog's ProcessorFormatter.wrap_for_formatter passes the event dict."""
    values = dict(msg)
    event = values.pop("event", None)
    exc_info = values.pop("exc_info", None) or record.exc_info
    for key in ("timestamp", "level", "logger"):
        values.pop(key, None)
    if "stack_info" in values:
        take_stack_info(values, limit)
    return event, values, exc_info


def _formatted(record: logging.LogRecord, args: object, limit: int, failed: bool) -> str:
    """The message of a record whose arguments may be a mapping (redacted by key first);
    *failed*: ``getMessage()`` already raised."""
    try:
        mapping = _mapping_arg(args)
    except Exception:  # a mapping refusing len(): formatted as usual
        mapping = None
    if mapping is not None:
        return _redacted_message(record, mapping, limit)
    if not failed:
        try:
            return record.getMessage()
        except Exception:  # noqa: S110 - formatted leniently below
            pass
    return _lenient_message(record.msg, args, limit)


def _mapping_arg(args: object) -> Mapping[object, object] | None:
    """The mapping a record's arguments format with, if any.

    ``LogRecord`` turns a single non-empty mapping argument into ``args`` itself; a
    record built otherwise (``makeLogRecord``, a filter) may still hold it in a 1-tuple,
    which only matters once ``%(key)s`` formatting failed on it (``%s`` prints the
    mapping, where redaction sees each value next to its key).
    """
    if type(args) is tuple:
        if len(args) != 1:
            return None
        first = args[0]
        return first if isinstance(first, Mapping) and first else None
    return args if isinstance(args, Mapping) else None


def _redacted_message(
    record: logging.LogRecord, mapping: Mapping[object, object], limit: int
) -> str:
    """The message formatted with its mapping argument redacted by key; never raises.

    Values the redactor leaves alone keep their own formatting (``%d``, ``%r``).  What
    it replaced is counted by the redactor but not listed in ``otel_distro.redacted``
    (the record's redaction pass would rewrite an entry set here).
    """
    try:
        from otel_distro.redaction import REDACTED, get_redactor

        redacted = get_redactor().redact_mapping(mapping, path="args")
        safe: dict[object, object] = {}
        for key, value in mapping.items():
            # a key the redactor rewrote (a secret in the key itself): its value is not shown
            new = redacted.get(key if type(key) is str else safe_str(key, limit), REDACTED)
            safe[key] = value if _unchanged(value, new) else new
    except Exception:  # a mapping that cannot be read: the message without its arguments
        return safe_str(record.msg, limit)
    try:
        return str(record.msg) % safe
    except Exception:  # the application's template does not fit its arguments: leniently
        return _lenient_message(record.msg, safe, limit)


def _unchanged(value: object, new: object) -> bool:
    """Whether the redactor left *value* as it was (objects come back as their ``str()``)."""
    if new is value:
        return True
    try:
        if type(new) is str and type(value) is not str:
            return bool(new == str(value))
        return bool(new == value)
    except Exception:  # the application's value refuses == or str(): not our failure
        return False


_CONVERSION = re.compile(r"%(?:\(([^()]{0,64})\))?[-#0 +]{0,4}[0-9]{0,3}(?:\.[0-9]{1,3})?[a-zA-Z%]")


def _lenient_message(msg: object, args: object, limit: int) -> str:
    """A message whose %-formatting failed, with its arguments put in their places.

    ``info("pw=%s %s", secret)`` raises in ``getMessage``; printing the format and
    the args tuple apart would separate the secret from its key (``pw=%s ('...',)``)
    so redaction could no longer recognise it.  Positional arguments fill the
    conversions in order, any left over are appended; a mapping is printed whole.
    Unprintable values become placeholders.
    """
    try:
        text = safe_str(msg, limit)
        if not args:
            return text
        if isinstance(args, Mapping):  # printed as a dict, each value stays next to its key
            return f"{text} {safe_str(args, limit)}"
        pending = list(args) if isinstance(args, tuple) else [args]

        def fill(match: re.Match[str]) -> str:
            if match.group(0) == "%%":
                return "%"
            if match.group(1) is not None:
                return match.group(0)
            return safe_str(pending.pop(0), limit) if pending else match.group(0)

        text = _CONVERSION.sub(fill, text)
        if pending:
            text += " " + " ".join(safe_str(arg, limit) for arg in pending)
        return text
    except Exception:  # the application's message or arguments are unreadable
        return f"{safe_str(msg, limit)} {safe_str(args, limit)}"


def adopt(
    handler: RootHandler, min_level: int, drop_access_log: bool, before: int | None = None
) -> None:
    """Put our handler next to the application's on the root logger and fold server
    loggers into it (safe to repeat).  *before*: the root level before the application's
    configuration call that just returned (None from ``configure``)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if is_otel_handler(existing) or (
            isinstance(existing, RootHandler) and existing is not handler
        ):
            root.removeHandler(existing)
            if is_otel_handler(existing):
                _log.debug(
                    "removed %s from the root logger: otel-distro already emits "
                    "standard-library records once",
                    type(existing).__module__,
                )
    if handler not in root.handlers:
        root.addHandler(handler)
    guest.adopt_root_level(root, min_level, before)
    handler.setLevel(guest.handler_level(min_level))
    if app_handlers(root, handler):
        unfold_servers(handler, drop_access_log)
    else:
        fold_servers(handler, drop_access_log)


_originals: dict[str, Callable[..., Any]] = {}
_INSTRUMENT = "LoggingInstrumentor._instrument"


def patch_logging_config(readopt: Callable[[int | None], None], ours: logging.Handler) -> None:
    """Re-adopt after ``dictConfig``/``fileConfig``/``basicConfig`` (uvicorn calls dictConfig)
    and after the contrib ``LoggingInstrumentor().instrument()`` called by the application.

    ``basicConfig`` runs with our handler off the root logger, so it configures the root
    logger as it would without the distro (it does nothing when handlers are present).
    """
    if _originals:
        return
    targets: dict[str, tuple[ModuleType, str]] = {
        "dictConfig": (logging.config, "dictConfig"),
        "fileConfig": (logging.config, "fileConfig"),
        "basicConfig": (logging, "basicConfig"),
    }
    for key, (module, attr) in targets.items():
        original = getattr(module, attr)
        _originals[key] = original
        setattr(module, attr, _wrap(original, readopt, ours if key == "basicConfig" else None))
    _patch_contrib_instrumentor(readopt)


def _patch_contrib_instrumentor(readopt: Callable[[int | None], None]) -> None:
    """The contrib instrumentation puts its own OTel handler on the root logger with a
    plain ``addHandler`` (after any ``basicConfig``): re-adopt once it has, which removes
    that handler.  Its ``uninstrument`` is unaffected (removing an absent handler is fine)."""
    try:
        from opentelemetry.instrumentation.logging import LoggingInstrumentor
    except Exception:  # not installed (or broken): nothing to watch
        return
    original = LoggingInstrumentor.__dict__.get("_instrument")
    if not callable(original):
        return
    _originals[_INSTRUMENT] = original
    LoggingInstrumentor._instrument = _wrap(original, readopt)  # type: ignore[method-assign]


def _wrap(
    original: Callable[..., object],
    readopt: Callable[[int | None], None],
    lift: logging.Handler | None = None,
) -> Callable[..., object]:
    def wrapper(*args: object, **kwargs: object) -> object:
        root = logging.getLogger()
        before = root.level
        lifted = lift is not None and lift in root.handlers
        if lifted:
            root.removeHandler(lift)  # type: ignore[arg-type]
        try:
            return original(*args, **kwargs)
        finally:
            try:
                readopt(before)
            except Exception:
                internal_error("logging.readopt")

    wrapper.__doc__ = original.__doc__
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    return wrapper


def unpatch_logging_config() -> None:
    """Restore the logging configuration functions (tests)."""
    unfolded()
    if not _originals:
        return
    logging.config.dictConfig = _originals.pop("dictConfig")
    logging.config.fileConfig = _originals.pop("fileConfig")
    logging.basicConfig = _originals.pop("basicConfig")
    instrument = _originals.pop(_INSTRUMENT, None)
    if instrument is not None:
        from opentelemetry.instrumentation.logging import LoggingInstrumentor

        LoggingInstrumentor._instrument = instrument  # type: ignore[method-assign]
