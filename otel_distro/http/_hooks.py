"""Outbound HTTP calls (httpx): one ``external_http_call`` log record per call.

The distro hands these hooks to the httpx instrumentor.  Each completed call
is logged (logger ``otel_distro.http_client``, exported; a rendered line only where
the distro writes lines of its own, see ``docs/logging.md``) with method, URL,
status and duration, correlated with its client span; with
``EXTERNAL_HTTP_ENABLE_BODY_LOGGING=true`` an in-memory request body is added, cut to
``EXTERNAL_HTTP_MAX_BODY_BYTES`` (never with ``ENVIRONMENT=production``).  Everything
goes through the log pipeline, so URLs, bodies and any secret in them are redacted there.
Response bodies are not logged: reading them here would consume the stream the
application is about to read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from otel_distro._report import internal_error
from otel_distro.config import get_settings

__all__ = ["async_response_hook", "response_hook"]

EVENT = "external_http_call"
Emit = Callable[[str, str, dict[str, object]], None]


class _Request(Protocol):
    """What the hook reads of the httpx instrumentation's ``RequestInfo``."""

    @property
    def method(self) -> bytes: ...
    @property
    def url(self) -> object: ...  # an ``httpx.URL`` or the raw transport tuple
    @property
    def stream(self) -> object: ...


class _Response(Protocol):
    """What the hook reads of the httpx instrumentation's ``ResponseInfo``."""

    @property
    def status_code(self) -> int: ...


LOGGER = "otel_distro.http_client"


def _emit(level: str, event: str, fields: dict[str, object]) -> None:
    """Through the log pipeline; a line only where the distro writes its own lines (a
    server, the application not having configured the root logger), never on the
    stdout of a command-line tool; exported regardless."""
    from structlog.contextvars import get_contextvars

    from otel_distro.logging import own_lines
    from otel_distro.logging._pipeline import LEVELS
    from otel_distro.logging._structlog import Holder

    pipeline = Holder.pipeline
    if pipeline is None:
        return
    row = LEVELS[level]
    if row[0] < pipeline.min_level:
        return
    bound = get_contextvars()  # what the application bound, as structlog's chain merges it
    if bound:
        fields = {**bound, **fields}
    pipeline.capture(row, LOGGER, event, fields, write=own_lines())


def _url_text(url: object) -> str:
    if isinstance(url, tuple) and len(url) == 4:  # raw transport form
        scheme, host, port, target = url
        text = f"{scheme.decode()}://{host.decode()}"
        if port is not None:
            text += f":{port}"
        return text + str(target.decode("latin-1"))
    return str(url)


# Token characters; a cut through a run this long drops the run's head (see _cut_body).
_RUN_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=~%")
_SECRET_RUN = 20  # the shortest cloud-token shapes (AWS key ids) are 20 characters
_RUN_BACKTRACK = 1024


def _cut_body(data: bytes, limit: int) -> bytes:
    """``data[:limit]``, without the head of a token run of 20+ characters the cut falls in.

    Redaction only sees the body after the cut; a token cut in half no longer has its
    shape, so its first half would be logged as is.
    """
    end = limit
    after = 0
    while limit + after < len(data) and after < _SECRET_RUN and data[limit + after] in _RUN_CHARS:
        after += 1
    if after == 0:
        return data[:limit]
    stop = max(0, limit - _RUN_BACKTRACK)
    while end > stop and data[end - 1] in _RUN_CHARS:
        end -= 1
    if limit - end + after < _SECRET_RUN or (end == stop and stop > 0):
        return data[:limit]
    return data[:end]


def _request_body(stream: object, limit: int) -> str | None:
    """An in-memory request body, cut to ``limit`` bytes; None for streamed bodies."""
    import httpx

    if limit <= 0 or not isinstance(stream, httpx.ByteStream):
        return None
    data = b"".join(stream)
    if not data:
        return None
    if len(data) <= limit:
        return data.decode("utf-8", "replace")
    return _cut_body(data, limit).decode("utf-8", "replace") + "...[truncated]"


def _fields(span: object, request: _Request, response: _Response) -> tuple[str, dict[str, object]]:
    settings = get_settings()
    status = int(response.status_code)
    fields: dict[str, object] = {
        "http.request.method": request.method.decode("ascii", "replace"),
        "url.full": _url_text(request.url),
        "http.response.status_code": status,
    }
    start = getattr(span, "start_time", None)
    if isinstance(start, int):
        fields["duration_ms"] = round((time.time_ns() - start) / 1e6, 3)
    from otel_distro.http._body import body_logging_enabled

    if body_logging_enabled(settings):
        body = _request_body(request.stream, settings.external_http_max_body_bytes)
        if body is not None:
            fields["http.request.body"] = body
    level = "error" if status >= 500 else "warning" if status >= 400 else "info"
    return level, fields


def response_hook(
    span: object, request: _Request, response: _Response, emit: Emit | None = None
) -> None:
    """httpx instrumentor response hook (sync clients); never raises."""
    try:
        level, fields = _fields(span, request, response)
        (emit or _emit)(level, EVENT, fields)
    except Exception:  # telemetry never breaks an outbound call
        internal_error("http.response_hook")


async def async_response_hook(span: object, request: _Request, response: _Response) -> None:
    """httpx instrumentor response hook (async clients); never raises."""
    response_hook(span, request, response)
