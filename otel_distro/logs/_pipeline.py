"""The per-record work shared by structlog and standard-library logging.

``Pipeline.finish`` takes one event (level, logger name, message, key-values,
``exc_info``) and, once: cleans the values, adds ``exception.*``, the request
context (tenant.id, user.id, ...) and trace ids, redacts, queues the OTel record
and returns the rendered line.  Everything runs on the caller's thread except
the SDK emit (see ``_emit``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context, get_current

from otel_distro.config import Settings
from otel_distro.logs._correlate import context_values, current_ids
from otel_distro.logs._emit import Emitter
from otel_distro.logs._redact import Redact, load_redact
from otel_distro.logs._render import Output, console_renderer, render_json
from otel_distro.logs._values import clean, clean_mapping, exception_attributes

__all__ = ["LEVELS", "Pipeline", "severity"]

# level name -> (levelno, OTel severity number, OTel severity text, rendered name)
LEVELS: dict[str, tuple[int, SeverityNumber, str, str]] = {
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
_BY_NUMBER = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


def severity(levelno: int) -> tuple[int, SeverityNumber, str, str]:
    """The LEVELS row for a standard-library level number (custom levels round down)."""
    name = _BY_NUMBER.get(levelno)
    if name is None:
        name = _BY_NUMBER.get(min(50, max(0, levelno // 10 * 10)), "notset")
    return LEVELS[name]


def _iso(ts_ns: int) -> str:
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1000:06d}Z"


class Pipeline:
    """Settings-derived state for finishing records; built by ``configure``."""

    def __init__(self, settings: Settings, emitter: Emitter, output: Output) -> None:
        self.min_level: int = LEVELS[str(settings.log_level).lower()][0]
        self.limit: int = settings.redact_max_scan
        self.context_keys: tuple[str, ...] = tuple(dict.fromkeys(settings.baggage_attributes))
        self.json = settings.effective_log_format == "json"
        self.console = None if self.json else console_renderer()
        self.redact: Redact = load_redact()
        self.emitter = emitter
        self.output = output

    def finish(
        self,
        level: tuple[int, SeverityNumber, str, str],
        name: str | None,
        event: Any,
        values: Mapping[str, Any],
        exc_info: Any = None,
        ts_ns: int | None = None,
        emit: bool = True,
        render: bool = True,
        context: Context | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Return (the redacted output dict, the rendered line); queue the OTel record."""
        if ts_ns is None:
            ts_ns = time.time_ns()
        limit = self.limit
        attributes = clean_mapping(values, limit) if values else {}
        if exc_info:
            extra = exception_attributes(exc_info, limit)
            if extra:
                attributes.update(extra)
        if self.context_keys:
            found = context_values(self.context_keys)
            if found:
                for key, value in found.items():
                    attributes.setdefault(key, value)
        if type(event) is not str:
            event = clean(event, limit)
        elif len(event) > limit:
            event = event[:limit]
        event, attributes = self.redact(event, attributes)

        if context is None:
            context = get_current()
        ids = current_ids(context)
        out: dict[str, Any] = {
            "timestamp": _iso(ts_ns),
            "level": level[3],
            "logger": name,
            "event": event,
        }
        if ids is not None:
            out["trace_id"], out["span_id"] = ids
        out.update(attributes)
        if emit and self.emitter.enabled:
            if name:
                attributes["logger.name"] = name
            self.emitter.put((ts_ns, level[1], level[2], event, attributes, context))
        return out, (self.render(out) if render else "")

    def render(self, out: dict[str, Any]) -> str:
        if self.console is None:
            return render_json(out)
        exception = out.pop("exception.stacktrace", None)
        if exception is not None:
            out["exception"] = exception
        return self.console(out)
