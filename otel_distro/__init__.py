"""otel-distro: an OpenTelemetry-native instrumentation distribution for Python web backends.

The public facade.  Launch the app with ``opentelemetry-instrument``; in code:

* :func:`get_logger` -- a structlog logger wired to the distro's log pipeline;
* :func:`set_tenant`, :func:`current_tenant`, :func:`correlation_id` -- the
  request's tenant (in trusted baggage) and its correlation id;
* :func:`add_rule` -- one more redaction rule, for every signal;
* :func:`instrument` -- wrap an ASGI app that no contrib instrumentor covers;
* :func:`flush` -- export what was recorded so far (before a fork, at the end
  of a job); never raises.

Everything else is internal.  Names here are lazy where the module behind
them is heavy, so ``import otel_distro`` stays cheap.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from otel_distro.context import correlation_id, current_tenant, set_tenant

if TYPE_CHECKING:
    from otel_distro.redaction import Rule

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "add_rule",
    "correlation_id",
    "current_tenant",
    "flush",
    "get_logger",
    "instrument",
    "set_tenant",
]


def get_logger(name: str | None = None, **initial_values: object) -> Any:
    """A structlog logger bound to ``name``, wired to the distro's log pipeline."""
    from otel_distro.logging import get_logger as _get_logger

    logger = _get_logger(name)
    return logger.bind(**initial_values) if initial_values else logger


def add_rule(rule: Rule) -> None:
    """Redact with one more rule on every channel: ``rule(key, text) -> new text | None``.

    ``key`` is the attribute, field or header name (``None`` for free text); the
    rule returns the replacement text, or ``None`` to leave the text as it is.
    It runs after the built-in rules, on spans, logs, metrics and headers alike;
    its ``__name__`` names it in the redaction counts.
    """
    from otel_distro.redaction import add_rule as _add_rule

    _add_rule(rule)


def instrument(app: Any, **kwargs: Any) -> Any:
    """Wrap an ASGI app with the OpenTelemetry middleware and the distro's request hook.

    For apps the FastAPI/Starlette instrumentors do not reach: the wrapped app
    gets one server span per request, the request id and tenant handling.
    Keyword arguments go to ``OpenTelemetryMiddleware``.  A FastAPI app (in tests,
    say, without ``opentelemetry-instrument``) is instrumented in place by the FastAPI
    instrumentor with the distro's hook, and returned.
    """
    from otel_distro.asgi import instrument as _instrument

    return _instrument(app, **kwargs)


def flush(timeout_millis: int = 30_000) -> bool:
    """Export everything recorded so far: queued log events, then spans, logs and metrics.

    Returns True when every provider flushed within ``timeout_millis`` (shared by
    all of them).  Never raises: a provider or exporter that fails (or times
    out) is said once on stderr and makes it return False.
    """
    import sys

    from otel_distro._report import internal_error, report

    deadline = time.monotonic() + timeout_millis / 1000
    ok = True
    try:
        bridge = sys.modules.get("otel_distro.logging")
        if bridge is not None:  # the bridge was never loaded: nothing is queued
            bridge.flush()
    except Exception:
        internal_error("flush (log bridge)")
        ok = False
    for provider in _providers():
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        try:
            force_flush = getattr(provider, "force_flush", None)
            if force_flush is not None and force_flush(remaining) is False:
                ok = False
        except Exception as exc:  # the provider's or an exporter's failure, not ours
            report(f"flush: {type(provider).__name__} failed ({type(exc).__name__})")
            ok = False
    return ok


def _providers() -> list[object]:
    """The global tracer, logger and meter providers (proxies have nothing to flush)."""
    from opentelemetry import _logs, metrics, trace

    return [trace.get_tracer_provider(), _logs.get_logger_provider(), metrics.get_meter_provider()]
