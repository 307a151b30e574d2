"""Wrappers of logging's and structlog's functions run in frames of those packages.

The application's call site is found by walking the stack outwards and skipping the
frames of the logging machinery by their module name (``f_globals["__name__"]``):
structlog's ``_find_first_app_frame_and_name`` (``CallsiteParameterAdder``,
``StackInfoRenderer``, ``LoggerFactory``, ``_FixedFindCallerLogger``) skips names
starting with ``structlog`` plus its ``additional_ignores`` (``logging`` for
``CallsiteParameterAdder``, which also runs inside ``ProcessorFormatter`` on a
handler).  A frame of the distro that stays on the stack while application code runs
(the app's processors under ``BoundLoggerBase._process_event``, its handlers and
formatters under ``Logger.handle``) would be taken for the call site.

So such a wrapper is made by :func:`in_frames_of`: the same code and closure, with
globals holding only a module name under the package it stands in for and the
builtins.  It may use its arguments, its closure and builtins, nothing else (a global
name raises ``NameError`` when reached): the work it delegates to runs in ordinary
frames that have returned before the application's code is called.  Its
``__module__``, tracebacks (file and line) and ``inspect`` keep naming this
distribution.  Logging's own ``findCaller`` skips frames by file name
(``logging._srcfile``); wrappers of ``Logger.handle`` run after it has looked.
"""

from __future__ import annotations

import builtins
import types
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["in_frames_of"]

_F = TypeVar("_F", bound=Callable[..., Any])


def in_frames_of(module: str, function: _F) -> _F:
    """A copy of *function* whose frames belong to *module* (say ``logging._otel_distro``).

    *function* must read no global name (arguments, closure and builtins only).
    """
    if not isinstance(function, types.FunctionType):
        raise TypeError(f"in_frames_of: a plain function is needed, not {type(function)!r}")
    namespace = {"__name__": module, "__builtins__": builtins.__dict__}
    copy = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__dict__.update(function.__dict__)
    copy.__doc__ = function.__doc__
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    return copy  # type: ignore[return-value]
