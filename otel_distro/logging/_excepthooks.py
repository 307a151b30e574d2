"""Text Python prints itself, redacted: tracebacks and warnings.

* ``sys.excepthook`` (an uncaught exception in the main thread): the traceback is
  printed on stderr as Python prints it, redacted, and exported as one FATAL record
  (logger ``sys.excepthook``, ``exception.*`` attributes, no line of ours);
* ``threading.excepthook``: one ERROR record of the ``threading`` logger (redacted on
  the record, so whichever handler prints it prints it redacted);
* ``traceback.print_exception`` (also ``print_exc``, ``print_last`` and
  ``logging.Formatter.formatException``): the text redacted before it is written;
* ``warnings.showwarning``: the warning line redacted before it is written
  (``logging.captureWarnings`` sends warnings through logging records instead, which
  are redacted there).

Hooks the application installed itself are left alone (the ``exceptiongroup``
backport's ``sys.excepthook`` on Python 3.10 counts as Python's: it is replaced, and
prints a clean traceback as before); a clean text is printed exactly as before.
"""

from __future__ import annotations

import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TextIO

from otel_distro._report import internal_error

__all__ = ["install", "uninstall"]

Export = Callable[[str, Any], None]

_export: list[Export | None] = [None]
_originals: dict[str, Any] = {}
_SENTINEL: Any = getattr(traceback, "_sentinel", None)


def _redact(text: str, path: str) -> str:
    try:
        from otel_distro.redaction import get_redactor

        return get_redactor().redact_text(text, path=path)
    except Exception:
        internal_error("logging.excepthook_redaction")
        return text


def _write(file: TextIO | None, text: str) -> None:
    target = file if file is not None else sys.stderr
    if target is None:
        return
    try:
        target.write(text)
        target.flush()
    except Exception:  # noqa: S110 - a closed stderr must not raise here
        pass


def _excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """sys.excepthook: the redacted traceback on stderr, and one exported record."""
    try:
        text = "".join(_originals["format_exception"](kind, value, tb))
        redacted = _redact(text, "exception.stacktrace")
    except Exception:  # the application's exception cannot be formatted: the replaced hook
        _originals.get("excepthook", sys.__excepthook__)(kind, value, tb)
        return
    if redacted == text:
        _originals.get("excepthook", sys.__excepthook__)(kind, value, tb)
    else:
        _write(None, redacted)
    export = _export[0]
    if export is not None and not issubclass(kind, KeyboardInterrupt):
        try:
            export("sys.excepthook", (kind, value, tb))
        except Exception:  # noqa: S110 - the process is exiting: printing is what counts
            pass


def _thread_excepthook(args: Any) -> None:
    """Uncaught exceptions in threads: one redacted ERROR record instead of raw stderr."""
    if _export[0] is None:
        threading.__excepthook__(args)
        return
    if args.exc_type is SystemExit:
        return
    import logging

    name = getattr(args.thread, "name", None) or "unknown"
    logging.getLogger("threading").error(
        "Exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _print_exception(
    exc: Any,
    value: Any = _SENTINEL,
    tb: Any = _SENTINEL,
    limit: int | None = None,
    file: TextIO | None = None,
    chain: bool = True,
) -> None:
    """``traceback.print_exception``, writing the redacted text."""
    original = _originals["print_exception"]
    try:
        lines = _originals["format_exception"](exc, value, tb, limit=limit, chain=chain)
        text = "".join(lines)
    except Exception:  # the application's exception cannot be formatted: the original
        original(exc, value, tb, limit=limit, file=file, chain=chain)
        return
    _write(file, _redact(text, "exception.stacktrace"))


def _showwarning(
    message: Any,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning``, writing the redacted warning text."""
    original = _originals["showwarning"]
    try:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        redacted = _redact(text, "warning")
    except Exception:  # the application's warning cannot be formatted: the original
        original(message, category, filename, lineno, file, line)
        return
    if redacted == text:
        original(message, category, filename, lineno, file, line)
    else:
        _write(file, redacted)


def _default_excepthook(hook: Any) -> bool:
    """Python's hook, or the one the ``exceptiongroup`` backport puts in its place on
    import (Python 3.10, imported by anyio and pytest): it prints like Python's own, with
    exception groups, and is as unredacted."""
    if hook is sys.__excepthook__:
        return True
    return (
        getattr(hook, "__module__", None) == "exceptiongroup._formatting"
        and getattr(hook, "__name__", None) == "exceptiongroup_excepthook"
    )


def install(export: Export) -> None:
    """Install the hooks above where Python's defaults are in place (idempotent)."""
    _export[0] = export
    _originals.setdefault("format_exception", traceback.format_exception)
    if traceback.print_exception is not _print_exception:
        _originals["print_exception"] = traceback.print_exception
        traceback.print_exception = _print_exception  # type: ignore[assignment]
    if _default_excepthook(sys.excepthook):
        _originals["excepthook"] = sys.excepthook
        sys.excepthook = _excepthook
    if threading.excepthook is threading.__excepthook__:
        _originals["threading"] = threading.excepthook
        threading.excepthook = _thread_excepthook
    if warnings.showwarning is getattr(warnings, "_showwarning_orig", None):
        _originals["showwarning"] = warnings.showwarning
        warnings.showwarning = _showwarning


def uninstall() -> None:
    """Restore what :func:`install` replaced and is still in place (tests)."""
    _export[0] = None
    if not _originals:
        return
    if "print_exception" in _originals and traceback.print_exception is _print_exception:
        traceback.print_exception = _originals["print_exception"]
    if "excepthook" in _originals and sys.excepthook is _excepthook:
        sys.excepthook = _originals["excepthook"]
    if "threading" in _originals and threading.excepthook is _thread_excepthook:
        threading.excepthook = _originals["threading"]
    if "showwarning" in _originals and warnings.showwarning is _showwarning:
        warnings.showwarning = _originals["showwarning"]
    _originals.clear()
