"""The bridge for structlog chains the application built: it rides along, unseen.

``structlog.configure(processors=[...])``, ``configure_once``, ``wrap_logger(...,
processors=...)`` and ``reset_defaults()`` keep their meaning: ``get_config()``
returns exactly what the application set and no processor of ours is in any
chain.  Instead, ``BoundLoggerBase._process_event`` (where every bound logger runs
its chain) is wrapped: for a chain that is not the distro's own, the bridge step
runs just before the chain's last processor (the renderer), after the
application's exception formatters (``dict_tracebacks``, ``format_exc_info``), so:

* the renderer sees redacted values (clean values are handed on as they were, same
  objects; structured exceptions stay structured), plus ``trace_id``/``span_id`` and
  the request context while a span is current;
* the event is emitted to OpenTelemetry once, with ``exception.*`` from the
  ``exc_info`` the call was made with (taken before the chain formats it) and
  ``code.stacktrace`` for ``stack_info=True``; a chain that hands the event to
  standard-library logging is emitted by the root handler instead;
* a ``ConsoleRenderer`` (which formats ``exc_info`` itself) gets the redacted
  traceback as ``exception`` instead.

A contrib ``StructlogProcessor`` in a chain is skipped (it would emit a second copy,
unredacted);
a chain with structlog's ``LogCapture`` (``structlog.testing.capture_logs()`` in the
application's tests) runs unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from structlog._base import BoundLoggerBase
from structlog.testing import LogCapture

from otel_distro._exception_origin import log_context
from otel_distro._report import internal_error
from otel_distro.logging._frames import in_frames_of
from otel_distro.logging._pipeline import LEVELS
from otel_distro.logging._structlog import FinalProcessor, Holder, call_stack, contrib_processor
from otel_distro.logging._values import CODE_STACKTRACE

__all__ = ["install", "set_own", "uninstall"]

_INFO = LEVELS["info"]
_OWN_KEYS = ("timestamp", "level", "logger")
_TAKEN = frozenset({"event", "exc_info", "stack_info", *_OWN_KEYS})
_ADDED = ("trace_id", "span_id")
_STDLIB_LAST = (
    *(
        getattr(structlog.stdlib, name)
        for name in ("render_to_log_kwargs", "render_to_log_args_and_kwargs")
        if hasattr(structlog.stdlib, name)
    ),
    structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
)


class _Plan:
    """How one application chain is run: its processors but the last, the last one,
    whether it ends in standard-library logging, whether the last formats exceptions."""

    __slots__ = ("chain", "console", "last", "source", "stdlib")

    def __init__(self, processors: Sequence[Any]) -> None:
        self.source = processors
        kept = [p for p in processors if not contrib_processor(p)]
        self.chain = tuple(kept[:-1])
        self.last = kept[-1]
        self.stdlib = self.last in _STDLIB_LAST
        self.console = isinstance(self.last, structlog.dev.ConsoleRenderer)


_plans: dict[int, tuple[Any, int, _Plan | None]] = {}
_PLANS_MAX = 256
_own: list[Any] = [None]  # the distro's own processor list (run unchanged)


def _plan(processors: Any) -> _Plan | None:
    """The plan of a chain (None: run it unchanged: the distro's own, or empty)."""
    if processors is _own[0]:
        return None
    cached = _plans.get(id(processors))
    try:
        size = len(processors)
    except Exception:  # the application's processor list refuses len(): run it unchanged
        return None
    if cached is not None and cached[0] is processors and cached[1] == size:
        return cached[2]
    plan: _Plan | None = None
    if (
        size
        and not any(isinstance(p, (FinalProcessor, LogCapture)) for p in processors)
        and any(not contrib_processor(p) for p in processors)
    ):
        plan = _Plan(processors)
    if len(_plans) >= _PLANS_MAX:
        _plans.clear()
    _plans[id(processors)] = (processors, size, plan)
    return plan


def set_own(processors: Any) -> None:
    """The distro's own chain (``install`` of :mod:`._structlog`): run as it is."""
    _own[0] = processors


def _root_handler_attached() -> bool:
    handler = Holder.root_handler
    return handler is None or handler in logging.getLogger().handlers


def _report_root_replaced() -> None:
    from otel_distro.config import report

    report(
        "the root logger's handlers were replaced directly (not through logging.config or "
        "logging.basicConfig): standard-library records no longer reach OpenTelemetry; "
        "configure them with logging.config.dictConfig, or call "
        "otel_distro.logging.configure() again afterwards"
    )


def _same(value: Any, new: Any) -> bool:
    if new is value:
        return True
    try:
        return bool(new == value)
    except Exception:  # the application's value refuses ==: not our failure
        return False


def _bridge(
    logger: Any,
    method_name: str,
    event_dict: Any,
    exc_info: Any,
    stack: bool,
    plan: _Plan,
) -> Any:
    """Redact (in the values handed on), correlate and emit; never raises."""
    pipeline = Holder.pipeline
    if pipeline is None or not isinstance(event_dict, dict):
        return event_dict
    try:
        values = {k: v for k, v in event_dict.items() if k not in _TAKEN}
        if stack:
            values[CODE_STACKTRACE] = call_stack(pipeline.limit)
        if exc_info is None:
            exc_info = event_dict.get("exc_info")
        name = event_dict.get("logger") or getattr(logger, "name", None)
        stdlib = plan.stdlib or isinstance(logger, logging.Logger)
        emit = not stdlib or not _root_handler_attached()
        if emit and stdlib:
            _report_root_replaced()
        item = pipeline._item(
            LEVELS.get(method_name, _INFO),
            name if name is None or type(name) is str else str(name),
            event_dict.get("event"),
            values,
            exc_info,
            None,
            log_context(exc_info) if exc_info else None,
            emit,
            False,
        )
        cleaned = dict(item[5])
        event = item[4]
        out = pipeline.finish_item(item)
        return _handed_on(event_dict, cleaned, event, out, plan, pipeline.context_keys)
    except Exception:
        internal_error("logging.structlog_ride")
        return event_dict


def _handed_on(
    event_dict: dict[str, Any],
    cleaned: Mapping[str, Any],
    event: Any,
    out: Mapping[str, Any],
    plan: _Plan,
    context_keys: tuple[str, ...],
) -> dict[str, Any]:
    """The application's dict with what redaction replaced, and the ids."""
    if "event" in event_dict and not _same(event, out.get("event")):
        event_dict["event"] = out.get("event")
    for key, value in cleaned.items():
        if key in event_dict and key in out and not _same(value, out[key]):
            event_dict[key] = out[key]
    for key in (*_ADDED, *context_keys):
        if key in out and key not in event_dict:
            event_dict[key] = out[key]
    if plan.console and "exc_info" in event_dict:
        stack = out.get("exception.stacktrace")
        if stack is not None:
            event_dict.pop("exc_info", None)
            event_dict["exception"] = stack
    return event_dict


_original: Callable[..., Any] | None = None


class _Run:
    """One call of an application chain: what :func:`_start` prepared for the frame
    that runs it (:func:`_runner`)."""

    __slots__ = ("event_dict", "exc_info", "plan", "stack")

    def __init__(self, plan: _Plan, event_dict: dict[str, Any], exc_info: Any, stack: bool):
        self.plan = plan
        self.event_dict = event_dict
        self.exc_info = exc_info
        self.stack = stack


def _start(self: BoundLoggerBase, event: str | None, event_kw: dict[str, Any]) -> _Run | None:
    """The run of an application chain (None: structlog's own ``_process_event`` runs it:
    the distro's chain, no pipeline, or a chain left unchanged)."""
    processors = self._processors
    if processors is _own[0] or Holder.pipeline is None:
        return None
    plan = _plan(processors)
    if plan is None:
        return None
    exc_info = event_kw.get("exc_info") if "exc_info" in event_kw else None
    if exc_info is False:
        exc_info = None
    stack = False
    if "stack_info" in event_kw:
        try:
            stack = bool(event_kw["stack_info"])
        except Exception:  # the application's value refuses bool()
            stack = False
    event_dict: Any = self._context.copy()
    event_dict.update(**event_kw)
    if event is not None:
        event_dict["event"] = event
    return _Run(plan, event_dict, exc_info, stack)


def _result(event_dict: Any) -> tuple[Sequence[Any], Mapping[str, Any]]:
    """What the chain's last processor returned, as structlog hands it to the logger."""
    if isinstance(event_dict, (str, bytes, bytearray)):
        return (event_dict,), {}
    if isinstance(event_dict, tuple):
        return event_dict
    if isinstance(event_dict, dict):
        return (), event_dict
    msg = (
        "Last processor didn't return an appropriate value.  "
        "Valid return values are a dict, a tuple of (args, kwargs), bytes, or a str."
    )
    raise ValueError(msg)


def _runner(original: Callable[..., Any]) -> Callable[..., Any]:
    """The replacement of ``_process_event``: the application's processors run in its
    frame, which belongs to structlog (:mod:`._frames`), so every frame walk that skips
    structlog (``CallsiteParameterAdder``, ``StackInfoRenderer``) skips it too; what it
    delegates to (:func:`_start`, :func:`_bridge`, :func:`_result`) has returned
    before any processor of the application runs."""
    start, bridge, result = _start, _bridge, _result

    def _process_event(
        self: BoundLoggerBase, method_name: str, event: str | None, event_kw: dict[str, Any]
    ) -> tuple[Sequence[Any], Mapping[str, Any]]:
        run = start(self, event, event_kw)
        if run is None:
            return original(self, method_name, event, event_kw)  # type: ignore[no-any-return]
        plan = run.plan
        logger = self._logger
        event_dict = run.event_dict
        for proc in plan.chain:
            event_dict = proc(logger, method_name, event_dict)
        event_dict = bridge(logger, method_name, event_dict, run.exc_info, run.stack, plan)
        return result(plan.last(logger, method_name, event_dict))

    _process_event.__doc__ = original.__doc__
    return in_frames_of("structlog._otel_distro", _process_event)


def install() -> None:
    """Wrap ``BoundLoggerBase._process_event`` (idempotent)."""
    global _original
    if _original is not None:
        return
    _original = BoundLoggerBase._process_event
    BoundLoggerBase._process_event = _runner(_original)  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore structlog's own ``_process_event`` (tests)."""
    global _original
    if _original is None:
        return
    BoundLoggerBase._process_event = _original  # type: ignore[method-assign]
    _original = None
    _plans.clear()
