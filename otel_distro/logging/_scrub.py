"""Redaction on the standard-library record itself, before any handler reads it.

``Logger.handle`` (called once per record, on the logger that made it, after any
record factory and ``extra=``) is wrapped: when anything but the distro's own handler
will read the record (a ``FileHandler`` on the root logger, a library's own
``StreamHandler``, a ``QueueHandler``, Sentry's logging integration, logging's
last-resort printing), the record is redacted in place first; a record only the
distro exports is redacted once, on the log worker, and the caller pays nothing more.

* the message: formatted once; when redaction changes it, ``msg`` becomes the
  redacted text and ``args`` empty (so no handler can format the raw arguments, and
  Sentry's ``logentry.params`` is empty); a clean message keeps its ``msg``/``args``;
* a mapping argument (``%(password)s``) is redacted by key first, and structlog's
  event dict (``ProcessorFormatter.wrap_for_formatter``) value by value;
* ``extra=`` values, by their key;
* the exception: when redaction changes its traceback, ``exc_text`` holds the redacted
  text (which every ``logging.Formatter`` prints instead of formatting ``exc_info``
  again) and ``exc_info`` a look-alike exception with redacted messages, notes and
  chain (same type name, traceback and frames: ``Redactor.redact_exception``), for
  formatters that read the exception themselves (structlog's ``format_exc_info`` and
  ``dict_tracebacks`` under ``ProcessorFormatter``); likewise ``exc_info`` in structlog's
  event dict;
* ``stack_info``.

A formatter may show more of an exception than the record holds (the frames' local
variables: ``dict_tracebacks``, rich tracebacks), so ``logging.Handler.format`` is
wrapped too: for a record carrying an exception, every handler's formatted text but the
distro's is redacted, and the values found in the exception's messages are masked
wherever else they show (a local variable holding the same token).

The message passes through its logger's carry (``_carries``; one step per record,
in the order ``Logger.handle`` sees them), so a PEM block or a ``password:`` value
split across consecutive records of one logger is replaced in each.  A record
redacted here is marked (:data:`RECORD_REPORT`, possibly empty), and neither a
second pass nor the export pipeline steps a carry for it again.

What was replaced is kept on the record (:data:`RECORD_REPORT`) for the exported
record's ``otel_distro.redacted``.

Records that third-party libraries log while the SDK exports (``urllib3`` debug lines
of the OTLP exporter's own requests, made under OpenTelemetry's suppress-instrumentation
flag) reach no handler, so the distro's own traffic never shows up in the application's
logs; ``opentelemetry.*`` records (export failures) still do.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_value

from otel_distro._report import internal_error
from otel_distro._state import slot
from otel_distro.logging._carries import Carries
from otel_distro.logging._frames import in_frames_of
from otel_distro.logging._guest import handled_elsewhere

__all__ = ["RECORD_REPORT", "Entries", "install", "redact_record", "uninstall"]

RECORD_REPORT = "_otel_distro_redacted"
_limit = [65536]  # OTEL_DISTRO_REDACT_MAX_SCAN, set by install()
# Keys of structlog's event dict that are not data (left as they are).
_STRUCTLOG_KEYS = frozenset({"exc_info", "stack_info", "_record", "_from_structlog"})


class Entries(tuple):  # type: ignore[type-arg]
    """``rule:path`` entries of what was redacted on a record (only the distro makes these)."""

    __slots__ = ()


_NONE = Entries()  # redacted here, nothing replaced

# the redaction engine, bound by install() (None: not installed, records pass as made)
_engine: list[Any] = [None, None, None, None]  # [get_redactor, RedactionReport, TextCarry, mask]
_message_of: list[Callable[[logging.LogRecord, int], Any]] = []


def _new_carries() -> Carries | None:
    return None if _engine[2] is None else Carries(_engine[2])


# logger name -> carry of the records redacted here (on the logging caller's thread)
_carries = slot("logging.record_carries", _new_carries)


def _bind() -> None:
    try:
        from otel_distro.redaction import RedactionReport, TextCarry, get_redactor
        from otel_distro.redaction._exceptions import mask_parts

        _engine[:] = [get_redactor, RedactionReport, TextCarry, mask_parts]
    except Exception:
        internal_error("logging.record_redaction_bind")
        _engine[:] = [None, None, None, None]
    if _carries.value is None:
        _carries.reset()
    from otel_distro.logging._stdlib import message_of

    _message_of[:] = [message_of]


def _unchanged(value: Any, new: Any) -> bool:
    """Whether the redactor left *value* as it was (objects come back as their ``str()``)."""
    if new is value:
        return True
    try:
        if type(new) is str and type(value) is not str:
            return bool(new == str(value))
        return bool(new == value)
    except Exception:  # the application's value refuses == or str(): not our failure
        return False


def redact_record(record: logging.LogRecord, reserved: frozenset[str], limit: int) -> None:
    """Redact *record* in place (see the module docstring); never raises."""
    get_redactor, report_type = _engine[0], _engine[1]
    if get_redactor is None:
        return
    try:
        redactor = get_redactor()
        report = report_type()
        earlier = record.__dict__.get(RECORD_REPORT)
        carried = isinstance(earlier, Entries)  # redacted here before: its carry stepped once
        _message(record, redactor, report, limit, None if carried else _carries.value)
        extras = record.__dict__.keys() - reserved
        if extras:
            _extras(record, extras, redactor, report)
        if record.exc_info and not record.exc_text:
            _exception(record, redactor, report)
        stack = record.stack_info
        if stack and type(stack) is str:
            redacted = redactor.redact_text(stack, report=report, path="code.stacktrace")
            if redacted != stack:
                record.stack_info = redacted
        if isinstance(earlier, Entries):
            if report.entries:
                known = tuple(earlier)
                record.__dict__[RECORD_REPORT] = Entries(
                    known + tuple(e for e in report.entries if e not in known)
                )
        else:
            record.__dict__[RECORD_REPORT] = Entries(report.entries) if report.entries else _NONE
    except Exception:
        internal_error("logging.record_redaction")


def _message(
    record: logging.LogRecord, redactor: Any, report: Any, limit: int, carries: Carries | None
) -> None:
    message_of = _message_of[0]
    msg, args = record.msg, record.args
    if type(msg) is dict and not args:  # structlog's event dict for ProcessorFormatter
        new = _redacted_dict(msg, redactor, report)
        exc_info = _exc_info(msg.get("exc_info"))
        if exc_info is not None:
            redacted = _redacted_exc_info(record, exc_info, redactor, report)
            if redacted is not exc_info:
                new = dict(new if new is not None else msg)
                new["exc_info"] = redacted
        if new is not None:
            record.msg = new
        return
    plain: str | None
    if not args or type(args) is tuple:
        try:
            plain = text = record.getMessage()
        except Exception:  # formatted leniently, with each argument in its place
            plain, text = None, message_of(record, limit)
    else:  # a mapping argument, redacted by key while formatting
        text = message_of(record, limit)
        try:
            plain = record.getMessage()
        except Exception:  # the application's arguments do not format
            plain = None
    text = str(text)
    carry = None if carries is None else carries.for_text(record.name, text)
    if carry is not None or not redactor.known_clean(text, {}):
        text = redactor.redact_text(text, report=report, path="body", carry=carry)
    if text != plain:
        record.msg = text
        record.args = ()
        if "color_message" in record.__dict__:  # uvicorn's coloured copy of the message
            record.__dict__["color_message"] = text


def _redacted_dict(msg: dict[str, Any], redactor: Any, report: Any) -> dict[str, Any] | None:
    """A copy of structlog's event dict with redacted values, or None when clean."""
    data = {k: v for k, v in msg.items() if k not in _STRUCTLOG_KEYS}
    if not data or redactor.known_clean(None, data):
        return None
    redacted = redactor.redact_mapping(data, report=report)
    changed = False
    out = dict(msg)
    for key, value in data.items():
        new = redacted.get(key if type(key) is str else str(key), value)
        if not _unchanged(value, new):
            out[key] = new
            changed = True
    return out if changed else None


def _extras(record: logging.LogRecord, keys: Any, redactor: Any, report: Any) -> None:
    values = record.__dict__
    data = {key: values[key] for key in keys if key != RECORD_REPORT}
    if not data or redactor.known_clean(None, data):
        return
    redacted = redactor.redact_mapping(data, report=report)
    for key, value in data.items():
        new = redacted.get(key, value)
        if not _unchanged(value, new):
            values[key] = new


def _exception(record: logging.LogRecord, redactor: Any, report: Any) -> None:
    exc_info = record.exc_info
    kind, value = exc_info[0], exc_info[1]  # type: ignore[index]
    if value is None:
        return
    try:  # the unpatched formatter: traceback.print_exception prints redacted text
        text = "".join(traceback.format_exception(kind, value, exc_info[2]))  # type: ignore[index]
    except Exception:  # the application's exception cannot be formatted
        return
    text = text[:-1] if text.endswith("\n") else text
    redacted = redactor.redact_text(text, report=report, path="exception.stacktrace")
    if redacted != text:
        record.exc_text = redacted
        record.exc_info = _redacted_exc_info(record, exc_info, redactor, None)  # type: ignore[arg-type]


_ExcInfo = tuple[Any, Any, Any]
# record -> the values found in its exception's messages (masked in formatted output)
_found: weakref.WeakKeyDictionary[logging.LogRecord, tuple[str, ...]] = weakref.WeakKeyDictionary()
_found_lock = threading.Lock()


def _exc_info(value: Any) -> _ExcInfo | None:
    """structlog's ``exc_info`` (``True``, an exception, a tuple) as a tuple, or None."""
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value
    if value is True:
        current = sys.exc_info()
        return current if current[1] is not None else None
    return None


def _redacted_exc_info(
    record: logging.LogRecord, exc_info: _ExcInfo, redactor: Any, report: Any
) -> _ExcInfo:
    """``exc_info`` with a look-alike exception whose messages are redacted (the same
    tuple when nothing changes); the values found are kept for :func:`_formatted`."""
    parts: list[str] = []
    value = redactor.redact_exception(exc_info[1], report=report, parts=parts)
    if parts:
        with _found_lock:
            _found[record] = tuple(dict.fromkeys(parts + list(_found.get(record, ()))))
    if value is exc_info[1]:
        return exc_info
    return (type(value), value, exc_info[2])


def _carries_exception(record: logging.LogRecord) -> bool:
    if record.exc_info:
        return True
    msg = record.msg
    return type(msg) is dict and bool(msg.get("exc_info"))


_original_format: Callable[[logging.Handler, logging.LogRecord], str] | None = None
_ours: list[logging.Handler | None] = [None]


def _formatted(self: logging.Handler, record: logging.LogRecord, text: str) -> str:
    """*text*, formatted by handler *self*, redacted when *record* carries an exception."""
    if self is _ours[0] or not _carries_exception(record) or _engine[0] is None:
        return text
    try:
        if type(text) is not str:
            return text
        with _found_lock:
            parts = _found.get(record, ())
        if parts:
            text = _engine[3](text, parts)
        return _redact_output(text, _engine[0]())
    except Exception:
        internal_error("logging.format_redaction")
        return text


def _redact_output(text: str, redactor: Any) -> str:
    """A handler's formatted text redacted whole: never cut at the scan limit (a long
    text is read line by line, a long JSON line as one document)."""
    limit = _limit[0]
    if len(text) <= limit:
        return str(redactor.redact_text(text, path="formatted"))
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        if len(line) <= limit:
            out.append(redactor.redact_text(line, path="formatted"))
            continue
        body = line.rstrip("\r\n")
        try:
            parsed = json.loads(body)
        except ValueError:
            out.append(redactor.redact_text(line, path="formatted"))
            continue
        redacted = redactor.redact_value(parsed, path="formatted")
        out.append(line if redacted == parsed else json.dumps(redacted) + line[len(body) :])
    return "".join(out)


_original_handle: Callable[[logging.Logger, logging.LogRecord], Any] | None = None
_OWN = ("opentelemetry", "otel_distro")


def _other_consumer(record: logging.LogRecord, ours: logging.Handler | None) -> bool:
    """Whether anything but the distro's handler will read *record*: another handler on
    its way up, or a patched ``callHandlers`` (Sentry's logging integration)."""
    if getattr(logging.Logger.callHandlers, "__module__", "logging") != "logging":
        return True
    return ours is None or handled_elsewhere(record, ours)


def install(reserved: frozenset[str], limit: int, ours: logging.Handler | None = None) -> None:
    """Wrap ``logging.Logger.handle`` and ``logging.Handler.format`` (idempotent; *limit*:
    longest text scanned; *ours*: the distro's root handler, which redacts on its worker
    thread)."""
    global _original_handle, _original_format
    _limit[0] = limit
    _ours[0] = ours
    _bind()
    if _original_format is None:
        format_original = logging.Handler.format
        _original_format = format_original
        after = _formatted

        # stays on the stack while formatters run (structlog's CallsiteParameterAdder
        # in a ProcessorFormatter walks out from there): a frame of logging's
        def format(self: logging.Handler, record: logging.LogRecord) -> str:
            return after(self, record, format_original(self, record))

        format.__doc__ = format_original.__doc__
        format.__wrapped__ = format_original  # type: ignore[attr-defined]
        logging.Handler.format = in_frames_of("logging._otel_distro", format)  # type: ignore[method-assign]
    if _original_handle is not None:
        return
    handle_original = logging.Logger.handle
    _original_handle = handle_original

    def before(record: logging.LogRecord) -> bool:
        if get_value(_SUPPRESS_INSTRUMENTATION_KEY) and not record.name.startswith(_OWN):
            return False  # a library logging inside the SDK's export: the distro's traffic
        if _other_consumer(record, ours):
            redact_record(record, reserved, _limit[0])
        return True

    # stays on the stack while handlers run: a frame of logging's (see _frames)
    def handle(self: logging.Logger, record: logging.LogRecord) -> Any:
        return handle_original(self, record) if before(record) else None

    handle.__doc__ = handle_original.__doc__
    handle.__wrapped__ = handle_original  # type: ignore[attr-defined]
    logging.Logger.handle = in_frames_of("logging._otel_distro", handle)  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore ``logging.Logger.handle`` and ``logging.Handler.format`` (tests)."""
    global _original_handle, _original_format
    if _original_handle is not None:
        logging.Logger.handle = _original_handle  # type: ignore[method-assign,assignment]
        _original_handle = None
    if _original_format is not None:
        logging.Handler.format = _original_format  # type: ignore[method-assign,assignment]
        _original_format = None
    _ours[0] = None
