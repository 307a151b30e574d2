"""The per-event work shared by structlog, standard-library logging and the access log.

``Pipeline.capture`` runs on the caller's thread and only snapshots the event:
cleaned values (so later mutation by the app cannot change them), ``exception.*``
from ``exc_info``, the OTel context and the request state.  ``Pipeline.complete``
runs on the log worker: request context (tenant.id, user.id, ...) and trace ids,
one redaction pass, the rendered line and the OTel record.  ``finish`` does both
synchronously for application-owned structlog chains.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TypeAlias

from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context, get_current
from opentelemetry.trace import SpanContext, get_current_span
from opentelemetry.util.types import AnyValue

from otel_distro._exception_origin import _exception_of
from otel_distro._names import REPORT_ATTRIBUTE
from otel_distro._report import internal_error
from otel_distro.config import Settings
from otel_distro.errors._repeat import server_repeat
from otel_distro.errors._span import record_logged
from otel_distro.logging._correlate import context_values, hex_ids, request_snapshot
from otel_distro.logging._emit import Emitter
from otel_distro.logging._redact import Redact, load_redact
from otel_distro.logging._render import Output, console_renderer, render_clean_json
from otel_distro.logging._span_events import SpanEvents
from otel_distro.logging._values import (
    CODE_STACKTRACE,
    clean,
    clean_mapping,
    exception_attributes,
)

__all__ = ["LEVELS", "Item", "Level", "Pipeline", "severity"]

# (levelno, OTel severity number, OTel severity text, rendered name)
Level = tuple[int, SeverityNumber, str, str]
# the request state's context values (``request_snapshot``)
_Request: TypeAlias = "dict[str, str] | None"
# (context, request values, allow-listed context values, span context, hex ids)
_ContextInfo: TypeAlias = (
    "tuple[Context | None, _Request, dict[str, str], SpanContext | None, tuple[str, str] | None]"
)
# One captured event, as queued for the worker: (pipeline, timestamp, level, logger name,
# event, cleaned attributes, context, request values, emit, write), and optionally
# (already redacted entries, carried) -- a plain tuple: one is made per log call.
_Captured: TypeAlias = (
    "tuple[Pipeline, int, Level, str | None, AnyValue, dict[str, AnyValue], Context, _Request,"
    " bool, bool]"
)
_Redacted: TypeAlias = (
    "tuple[Pipeline, int, Level, str | None, AnyValue, dict[str, AnyValue], Context, _Request,"
    " bool, bool, tuple[str, ...], bool]"
)
Item: TypeAlias = "_Captured | _Redacted"

LEVELS: dict[str, Level] = {
    "debug": (10, SeverityNumber.DEBUG, "DEBUG", "debug"),
    "info": (20, SeverityNumber.INFO, "INFO", "info"),
    "notset": (0, SeverityNumber.UNSPECIFIED, "UNSPECIFIED", "notset"),
    "warning": (30, SeverityNumber.WARN, "WARN", "warning"),
    "warn": (30, SeverityNumber.WARN, "WARN", "warning"),
    "error": (40, SeverityNumber.ERROR, "ERROR", "error"),
    "exception": (40, SeverityNumber.ERROR, "ERROR", "error"),
    "critical": (50, SeverityNumber.FATAL, "FATAL", "critical"),
    "fatal": (50, SeverityNumber.FATAL, "FATAL", "critical"),
}
_SYNC_LEVEL = 40
_BY_NUMBER = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


def severity(levelno: int) -> Level:
    """The LEVELS row for a standard-library level number (custom levels round down)."""
    name = _BY_NUMBER.get(levelno)
    if name is None:
        name = _BY_NUMBER.get(min(50, max(0, levelno // 10 * 10)), "notset")
    return LEVELS[name]


_second: tuple[int, str] = (-1, "")


def _iso(ts_ns: int) -> str:
    global _second
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    cached = _second  # one tuple, read once: safe when several threads log
    if cached[0] != seconds:
        cached = _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{cached[1]}.{rest // 1000:06d}Z"


class Pipeline:
    """Settings-derived state for capturing and completing events; built by ``configure``."""

    def __init__(self, settings: Settings, emitter: Emitter, output: Output) -> None:
        self.min_level: int = LEVELS[str(settings.log_level).lower()][0]
        self.limit: int = settings.redact_max_scan
        self.context_keys: tuple[str, ...] = tuple(dict.fromkeys(settings.baggage_attributes))
        self.console = None if settings.effective_log_format == "json" else console_renderer()
        self.redact: Redact = load_redact()
        self.emitter = emitter
        self.output = output
        # log records as events on their span (OTEL_DISTRO_LOGS_AS_SPAN_EVENTS)
        self.span_events = (
            SpanEvents(self.redact) if settings.effective_logs_as_span_events else None
        )
        # context values of the last (context, request) pair: records of one span repeat it
        self._last_context: _ContextInfo = (None, None, {}, None, None)

    def capture(
        self,
        level: Level,
        name: str | None,
        event: object,
        values: Mapping[str, object] | None,
        exc_info: object = None,
        ts_ns: int | None = None,
        context: Context | None = None,
        emit: bool = True,
        write: bool = True,
        redacted: tuple[str, ...] = (),
        carried: bool = False,
    ) -> None:
        """Snapshot one event on the caller's thread and queue it for the worker.

        *write*: render a line (else the record is only exported); *redacted*: what was
        already replaced before (``rule:path`` entries, from the record's own redaction);
        *carried*: the record's own redaction already stepped its logger's carry.

        ERROR and above are completed before returning (after everything queued
        earlier, keeping order), so a crash right after still has its line -- unless a
        burst left a backlog or the worker is busy: then the worker completes it, and
        the caller does not wait (see ``Emitter.flush_urgent``).
        """
        emitter = self.emitter
        item = self._item(level, name, event, values, exc_info, ts_ns, context, emit, write)
        emitter.put((*item, redacted, carried) if redacted or carried else item)
        if level[0] >= _SYNC_LEVEL:
            emitter.flush_urgent()

    def _item(
        self,
        level: Level,
        name: str | None,
        event: object,
        values: Mapping[str, object] | None,
        exc_info: object,
        ts_ns: int | None,
        context: Context | None,
        emit: bool,
        write: bool,
    ) -> _Captured:
        limit = self.limit
        attributes = clean_mapping(values, limit) if values else {}
        if exc_info:
            extra = exception_attributes(exc_info, limit)
            if extra:
                attributes.update(extra)
                # the same exception.* as one ``exception`` event on the current span (once)
                exc = _exception_of(exc_info)
                record_logged(exc, extra)
                if server_repeat(exc, name, level[0]):  # the app logged it already
                    emit = write = False
        body: AnyValue
        if type(event) is not str or len(event) > limit or not event.isascii():
            body = clean(event, limit)
        else:
            body = event
        ts_ns = time.time_ns() if ts_ns is None else ts_ns
        context = get_current() if context is None else context
        if self.span_events is not None:
            self.span_events.add(context, ts_ns, level[2], name, body, attributes)
        return (
            self,
            ts_ns,
            level,
            name,
            body,
            attributes,
            context,
            request_snapshot() if self.context_keys else None,
            emit and self.emitter.enabled,
            write,
        )

    def complete(self, item: Item) -> str | None:
        """Worker side: emits the OTel record, returns the line (None: not written)."""
        out, attributes, span_context = self._complete(item)
        body = out["event"]  # read first: the console renderer pops keys from ``out``
        name = _name(out["logger"])
        line = None
        if item[9]:
            try:
                line = self.render(out)
            except Exception:  # the record is still emitted
                internal_error("logging.render")
                line = None
        if item[8]:
            self._emit(item, name, body, attributes, span_context)
        return line

    def _emit(
        self,
        item: Item,
        name: str | None,
        body: AnyValue,
        attributes: dict[str, AnyValue],
        span_context: SpanContext | None,
    ) -> None:
        """Hand the record to the writer; a failing processor must not cost the line."""
        if name:
            attributes["logger.name"] = name
        writer = self.emitter.writer
        if writer is None:
            return
        level = item[2]
        try:
            writer.emit(item[1], item[6], span_context, level[1], level[2], body, attributes)
        except Exception:  # noqa: S110 - a processor of the provider (the application's or
            # the SDK's) failed; the line is written regardless
            pass

    def _complete(
        self, item: Item
    ) -> tuple[dict[str, AnyValue], dict[str, AnyValue], SpanContext | None]:
        ts_ns, level, name, event, attributes, context, request = item[1:8]
        _, _, values, span_context, ids = self._context_of(context, request)
        for key, value in values.items():
            if key not in attributes:
                attributes[key] = value
        redacted: tuple[str, ...] = ()
        carried = False
        extra = item[10:]  # (redacted, carried) when the item has them
        if extra:
            redacted, carried = extra
        event, attributes, name = self.redact(event, attributes, name, carried)
        if redacted:  # replaced before the pipeline saw it (the record's)
            entries = _entries(attributes.get(REPORT_ATTRIBUTE))
            attributes[REPORT_ATTRIBUTE] = entries + [e for e in redacted if e not in entries]
        out: dict[str, AnyValue] = {
            "timestamp": _iso(ts_ns),
            "level": level[3],
            "logger": name,
            "event": event,
        }
        if ids is not None:
            out["trace_id"], out["span_id"] = ids
        out.update(attributes)
        return out, attributes, span_context

    def _context_of(self, context: Context | None, request: _Request) -> _ContextInfo:
        """(context, request, context values, span context, hex ids) of an event.

        Events of one span share their context object, so the last answer is reused.
        """
        last = self._last_context
        if last[0] is context and last[1] is request and context is not None:
            return last
        values = context_values(self.context_keys, context, request) if self.context_keys else {}
        span_context: SpanContext | None = get_current_span(context).get_span_context()
        ids = None
        if span_context is not None and span_context.is_valid:
            ids = hex_ids(span_context)
        else:
            span_context = None
        info: _ContextInfo = (context, request, values, span_context, ids)
        self._last_context = info
        return info

    def finish(
        self,
        level: Level,
        name: str | None,
        event: object,
        values: Mapping[str, object] | None,
        exc_info: object = None,
        emit: bool = True,
        context: Context | None = None,
    ) -> dict[str, AnyValue]:
        """Capture and complete synchronously; returns the redacted output dict, writes nothing.

        ``context`` replaces the current OTel context (as in :meth:`capture`).
        """
        return self.finish_item(
            self._item(level, name, event, values, exc_info, None, context, emit, False)
        )

    def finish_item(self, item: Item) -> dict[str, AnyValue]:
        """Complete an item from ``_item`` synchronously (emitted if it says so)."""
        out, attributes, span_context = self._complete(item)
        if item[8]:
            self._emit(item, _name(out["logger"]), out["event"], attributes, span_context)
        return out

    def render(self, out: dict[str, AnyValue]) -> str:
        if self.console is None:
            return render_clean_json(out)
        exception = out.pop("exception.stacktrace", None)
        if exception is not None:
            out["exception"] = exception
        stack = out.pop(CODE_STACKTRACE, None)
        if stack is not None:  # printed as a block, like structlog's StackInfoRenderer
            out["stack"] = stack
        return self.console(out)


def _name(name: AnyValue) -> str | None:
    """The redacted logger name of an output dict (a text or None, as ``redact`` returns)."""
    return name if name is None or type(name) is str else str(name)


def _entries(report: AnyValue) -> list[AnyValue]:
    """What a record's attributes already list as replaced (a list; nothing when absent)."""
    if not report:
        return []
    if isinstance(report, (int, float)):
        return [report]
    return list(report)
