"""Server loggers (uvicorn, gunicorn): folded into the root path, or left as the server
configured them once the application configured the root logger itself."""

from __future__ import annotations

import logging

__all__ = ["fold_servers", "is_otel_handler", "unfold_servers", "unfolded"]

_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")


def is_otel_handler(handler: logging.Handler) -> bool:
    """An OpenTelemetry ``LoggingHandler`` (the SDK's or the contrib instrumentation's)."""
    kind = type(handler)
    return kind.__name__ == "LoggingHandler" and kind.__module__.startswith("opentelemetry")


# server logger name -> (console handlers taken off it, its propagate flag before)
_folded: dict[str, tuple[list[logging.Handler], bool]] = {}


def fold_servers(handler: logging.Handler, drop_access_log: bool) -> None:
    """Server loggers' console handlers folded into the root path (the distro renders
    their lines); ``uvicorn.access`` silenced while the distro's access log is on."""
    for name in _UVICORN:
        logger = logging.getLogger(name)
        if handler in logger.handlers:
            logger.removeHandler(handler)
        removed: list[logging.Handler] = []
        for existing in list(logger.handlers):
            if type(existing) is logging.StreamHandler or is_otel_handler(existing):
                logger.removeHandler(existing)
                if type(existing) is logging.StreamHandler:
                    removed.append(existing)
        if removed and name not in _folded:
            _folded[name] = (removed, logger.propagate)
        if name.endswith(".access") and drop_access_log:
            logger.propagate = False
            if not logger.handlers:
                logger.addHandler(logging.NullHandler())
        elif not logger.handlers:
            logger.propagate = True


def unfold_servers(handler: logging.Handler, drop_access_log: bool) -> None:
    """The application configured the root logger: the server's own console handlers
    come back (its lines as without the distro, not in the application's handlers), and
    our handler exports from loggers that no longer propagate to the root."""
    for name in _UVICORN:
        logger = logging.getLogger(name)
        saved = _folded.pop(name, None)
        if saved is not None:
            for existing in list(logger.handlers):
                if isinstance(existing, logging.NullHandler):
                    logger.removeHandler(existing)
            for existing in saved[0]:
                if existing not in logger.handlers:
                    logger.addHandler(existing)
            logger.propagate = saved[1]
        exported_elsewhere = name.endswith(".access") and drop_access_log
        if not logger.propagate and not exported_elsewhere and handler not in logger.handlers:
            logger.addHandler(handler)


def unfolded() -> None:
    """Forget what was folded (tests)."""
    _folded.clear()
