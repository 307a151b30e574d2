"""No metric attribute of the contrib HTTP server instrumentations is the client's choice.

The older-convention ``http.server.duration``, ``http.server.active_requests`` and
request/response size metrics of the contrib HTTP server instrumentations (ASGI, and the
others sharing ``opentelemetry.instrumentation._semconv``) carry ``http.server_name``:
the request's ``Host`` header, which every client chooses.  Each distinct value is an
attribute set of its own: aggregation state that grows without bound (SDK 1.45.1), or
up to the SDK's per-instrument cardinality limit (2,000 from 1.45.2), past which every
new measurement, whoever made it, lands in one ``otel.metric.overflow`` point.  The
distro leaves it out of those metrics; spans keep it (length-bounded like every value).
The other attributes come from closed sets or the server itself (method, normalised to
``_OTHER``; scheme; status; protocol version; route template; the server's own host
and port).
"""

from __future__ import annotations

__all__ = ["CLIENT_CHOSEN", "bound_server_metric_attributes"]

#: Metric attributes whose value the client picks (the ``Host`` header).
CLIENT_CHOSEN = ("http.server_name",)
_SERVER_METRIC_KEYS = ("_server_duration_attrs_old", "_server_active_requests_count_attrs_old")


def bound_server_metric_attributes() -> None:
    """Take :data:`CLIENT_CHOSEN` out of the attribute keys the contrib server
    instrumentations copy onto their metrics (idempotent; spans are unchanged)."""
    try:
        from opentelemetry.instrumentation import _semconv
    except ImportError:  # no contrib instrumentation installed: nothing to bound
        return
    for name in _SERVER_METRIC_KEYS:
        keys = getattr(_semconv, name, None)
        if not isinstance(keys, list):
            continue
        for key in CLIENT_CHOSEN:
            while key in keys:
                keys.remove(key)
