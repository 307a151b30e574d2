"""What a logging call site is, for the call-site tests (in process and in launched scripts).

:func:`site` gives structlog's ``CallsiteParameter`` values of a line near the caller;
:data:`HOST_FIELDS` the ``logging.Formatter`` fields that carry the same, by parameter.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable
from typing import Any

from structlog.processors import CallsiteParameter

__all__ = ["HOST_FIELDS", "PARAMETERS", "site"]

# co_qualname (structlog's qual_name) exists from Python 3.11 on
PARAMETERS = frozenset(
    p for p in CallsiteParameter if p.value != "qual_name" or sys.version_info >= (3, 11)
)
# a host application's Formatter: logging's own record attributes, by parameter
HOST_FIELDS = {
    "pathname": "%(pathname)s",
    "filename": "%(filename)s",
    "module": "%(module)s",
    "func_name": "%(funcName)s",
    "lineno": "%(lineno)d",
    "thread": "%(thread)d",
    "thread_name": "%(threadName)s",
    "process": "%(process)d",
    "process_name": "%(processName)s",
}


def site(offset: int = 1, depth: int = 1, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The parameters (``keys``, default all) of the line *offset* lines below the line
    *depth* frames up (1: the caller)."""
    frame = sys._getframe(depth)
    code = frame.f_code
    base = os.path.basename(code.co_filename)
    values = {
        "pathname": code.co_filename,
        "filename": base,
        "module": os.path.splitext(base)[0],
        "qual_module": frame.f_globals["__name__"],
        "func_name": code.co_name,
        "qual_name": getattr(code, "co_qualname", None),
        "lineno": frame.f_lineno + offset,
        "thread": threading.get_ident(),
        "thread_name": threading.current_thread().name,
        "process": os.getpid(),
        "process_name": multiprocessing.current_process().name,
    }
    wanted = keys if keys is not None else (p.value for p in PARAMETERS)
    return {key: values[key] for key in wanted}
