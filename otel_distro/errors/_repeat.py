"""The server's log of an exception the app already logged: not a second ERROR record.

A common handler pattern logs the failure and re-raises it::

    except Exception:
        logger.error("payment failed", exc_info=True)
        raise

The server (uvicorn's "Exception in ASGI application", gunicorn, hypercorn) then
logs the same exception object again.  The first ERROR-or-above record carrying an
exception marks it; a later record of that exception from a server logger is
neither exported nor written (the app's record already holds the exception, its
stack trace and the request's trace and span ids).  Records of the app's own
loggers are never dropped.
"""

from __future__ import annotations

from otel_distro._report import internal_error

__all__ = ["SERVER_LOGGERS", "server_repeat"]

SERVER_LOGGERS = frozenset({"uvicorn", "uvicorn.error", "gunicorn.error", "hypercorn.error"})
_LOGGED = "_otel_distro_logged"
_ERROR = 40


def server_repeat(exc: BaseException | None, logger: object, levelno: int) -> bool:
    """True for a server logger's record of an exception already logged at ERROR or above."""
    try:
        if exc is None or levelno < _ERROR:
            return False
        if vars(exc).get(_LOGGED):
            return logger in SERVER_LOGGERS
        object.__setattr__(exc, _LOGGED, True)
    except Exception:
        internal_error("errors.server_repeat")
    return False
