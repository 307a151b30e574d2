"""Render a finished event as one line (JSON or console) and write it out."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable, Mapping

import structlog
from structlog.typing import EventDict

__all__ = ["Output", "console_renderer", "render_clean_json", "render_json"]


def _fallback(value: object) -> str:
    try:
        return str(value)
    except Exception:  # the application's object refuses str(): not our failure
        return f"<unprintable {type(value).__qualname__}>"


_dumps = json.JSONEncoder(default=_fallback).encode

# One reusable C encoder without cycle checks: ``JSONEncoder.encode`` builds a new
# one per call, which costs more than the encoding of a small event.
_c_make_encoder: Callable[..., Callable[[object, int], list[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_clean_encoder: Callable[[object, int], list[str]] | None = None
if _c_make_encoder is not None:
    _clean_encoder = _c_make_encoder(
        None, _fallback, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )


def render_json(event: Mapping[str, object]) -> str:
    """One JSON object from any dict (cycles and unknown types cannot make it fail)."""
    return _dumps(event)


def render_clean_json(event: Mapping[str, object]) -> str:
    """One JSON object from a dict of cleaned values (no cycles): the log worker's fast path."""
    if _clean_encoder is None:
        return _dumps(event)
    return "".join(_clean_encoder(event, 0))


def console_renderer(colors: bool | None = None) -> Callable[[EventDict], str]:
    """structlog's console renderer, called with an event dict."""
    if colors is None:
        try:
            colors = sys.stdout.isatty()
        except Exception:  # a replaced or closed stdout (the application's)
            colors = False
    renderer = structlog.dev.ConsoleRenderer(colors=colors)

    def render(event: EventDict) -> str:
        return renderer(None, "info", event)

    return render


class Output:
    """Writes rendered lines to stdout (or stderr: ``OTEL_DISTRO_LOG_STREAM``) and,
    optionally, a rotating file."""

    def __init__(self) -> None:
        self._file: logging.handlers.RotatingFileHandler | None = None
        self._lock = threading.Lock()
        self.stream = "stdout"  # the name in ``sys``, looked up per write (redirections)

    def open_file(self, directory: str, name: str, max_bytes: int, backups: int) -> str | None:
        """Start writing to ``directory/name``; returns a problem message or None."""
        self.close_file()
        path = os.path.join(directory, name)
        try:
            os.makedirs(directory, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        except Exception as exc:
            return (
                f"LOG_DIR={directory!r} is not writable ({type(exc).__name__}: {exc}); "
                "logs go to stdout only"
            )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self._file = handler
        return None

    def close_file(self) -> None:
        handler, self._file = self._file, None
        if handler is not None:
            try:
                handler.close()
            except Exception:  # noqa: S110 - closing is best effort
                pass

    def write_lines(self, lines: list[str]) -> None:
        """Write lines with one write and flush; a closed or broken stream never raises."""
        text = "\n".join(lines) + "\n"
        try:
            stream = sys.stderr if self.stream == "stderr" else sys.stdout
            stream.write(text)
            stream.flush()
        except Exception:  # noqa: S110 - a closed stream must not break the app
            pass
        handler = self._file
        if handler is not None:
            self._write_file(handler, lines)

    def _write_file(self, handler: logging.handlers.RotatingFileHandler, lines: list[str]) -> None:
        try:
            with self._lock:
                for line in lines:
                    if handler.shouldRollover(logging.makeLogRecord({"msg": line})):
                        handler.doRollover()
                    stream = handler.stream
                    if stream is not None:
                        stream.write(line + "\n")
                handler.flush()
        except Exception:
            self._file = None
            from otel_distro.config import report

            report("the log file could not be written; logs go to stdout only")
