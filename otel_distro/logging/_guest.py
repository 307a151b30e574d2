"""What the application configured wins: who owns the root level, and when the distro writes lines.

Three questions, answered here once for the standard-library handler, the access log
and the outbound-call records:

* **Does the distro write lines at all?** Always when ``configure()`` is called by
  the application; under ``opentelemetry-instrument`` (``auto``) only for a known
  server (uvicorn, gunicorn, hypercorn, daphne, granian, ``fastapi run``) or when
  ``LOG_LEVEL``, ``OTEL_DISTRO_LOG_STREAM`` or ``LOG_TO_FILE`` is set: a command-line
  tool whose stdout is its data gets no line it did not ask for.
* **Did the application configure the root logger?** A handler of its own on the
  root logger (``dictConfig``, ``basicConfig``, ``addHandler``): then its handlers
  write the standard-library lines and the distro only exports.
* **Who owns the root level?** The application, as soon as it set one (before the
  distro started, or in a ``dictConfig``/``fileConfig``/``basicConfig`` call);
  otherwise ``LOG_LEVEL`` applies to it, as a default.
"""

from __future__ import annotations

import logging
import os
import sys

from otel_distro.config import Settings

__all__ = ["Guest", "app_handlers", "guest", "handled_elsewhere"]

# Program names (argv[0], or the module of ``python -m``) of servers.
_SERVER_PROGRAMS = frozenset(
    {"uvicorn", "gunicorn", "hypercorn", "daphne", "granian", "fastapi", "waitress-serve"}
)
_SERVER_MODULES = ("uvicorn", "gunicorn", "hypercorn", "daphne", "granian")
# Variables that ask for the distro's lines explicitly.
_LINE_VARIABLES = ("LOG_LEVEL", "OTEL_DISTRO_LOG_STREAM", "LOG_TO_FILE")


def _program() -> str:
    """The program's name: ``uvicorn`` for ``.../bin/uvicorn`` and ``python -m uvicorn``."""
    original = list(getattr(sys, "orig_argv", None) or [])
    for index, arg in enumerate(original[1:-1], start=1):
        if not arg.startswith("-") or arg == "-c":
            break
        if arg == "-m":
            return str(original[index + 1]).split(".")[0]
    program = os.path.basename(str(sys.argv[0] if sys.argv else ""))
    return program[:-3] if program.endswith(".py") else program


def _ignored(handler: logging.Handler) -> bool:
    """Handlers that are nobody's configuration: test capture and NullHandlers."""
    return isinstance(handler, logging.NullHandler) or type(handler).__module__.startswith(
        "_pytest"
    )


def app_handlers(root: logging.Logger, ours: logging.Handler) -> bool:
    """True when the root logger has a handler of the application's (not ours, not a
    NullHandler, not pytest's capture)."""
    return any(handler is not ours and not _ignored(handler) for handler in root.handlers)


def handled_elsewhere(record: logging.LogRecord, ours: logging.Handler) -> bool:
    """Whether a handler other than ours is on the record's way up (logging's own rule
    for printing it with the last-resort handler)."""
    found = logging.Logger.manager.loggerDict.get(record.name) if record.name else None
    logger: logging.Logger | None = (
        found if isinstance(found, logging.Logger) else logging.getLogger()
    )
    while logger is not None:
        for handler in logger.handlers:
            if handler is not ours:
                return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


class Guest:
    """The decisions above for one process (``configure`` fills it in)."""

    def __init__(self) -> None:
        self.auto = False
        self.explicit_lines = False
        self.level_explicit = False
        self.server = False
        self.app_level = False
        self.our_level: int | None = None

    def configure(self, settings: Settings, auto: bool) -> None:
        explicit: frozenset[str] = getattr(settings, "explicit", frozenset())
        self.auto = auto
        self.explicit_lines = any(name in explicit for name in _LINE_VARIABLES)
        self.level_explicit = "LOG_LEVEL" in explicit
        self.server = self.server or _program() in _SERVER_PROGRAMS

    def server_detected(self) -> bool:
        """A server program, or a server package imported (``uvicorn.run`` in a script)."""
        if not self.server:
            modules = sys.modules
            self.server = any(name in modules for name in _SERVER_MODULES)
        return self.server

    def lines(self) -> bool:
        """Whether the distro writes rendered lines of its own."""
        return not self.auto or self.explicit_lines or self.server_detected()

    def own_lines(self, root_handler: logging.Handler | None) -> bool:
        """Lines for records the distro adds itself (access log, outbound calls): only
        while the application has not configured the root logger."""
        if not self.lines():
            return False
        return root_handler is None or not app_handlers(logging.getLogger(), root_handler)

    def adopt_root_level(self, root: logging.Logger, min_level: int, before: int | None) -> None:
        """Set the root level to ``LOG_LEVEL`` unless the application set one.

        *before*: the root level before the application's configuration call that just
        returned (None: called from ``configure``).
        """
        level = root.level
        if before is None:
            if level not in (logging.WARNING, self.our_level):
                self.app_level = True  # set before the distro started
        elif level != before:
            self.app_level = True  # the configuration call set it
        if self.app_level or not self.lines():
            return
        root.setLevel(min_level)
        self.our_level = min_level

    def handler_level(self, min_level: int) -> int:
        """Our handler's level: ``LOG_LEVEL`` while it is the default in charge (it also
        holds for loggers with a lower level of their own, uvicorn's INFO); NOTSET where
        the application's levels decide what is produced."""
        if self.level_explicit or (self.lines() and not self.app_level):
            return min_level
        return logging.NOTSET

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


guest = Guest()
