"""Body previews for ``external_http_call`` records: opt-in, bounded, never in production.

``EXTERNAL_HTTP_ENABLE_BODY_LOGGING=true`` adds the in-memory request body and,
for responses the client has already read, the response body, each cut to
``EXTERNAL_HTTP_MAX_BODY_BYTES`` and redacted.  With ``ENVIRONMENT=production``
the flag is ignored (said once on stderr).  A streamed body is never read here.
"""

from __future__ import annotations

import httpx

from otel_distro._report import report
from otel_distro.config import Settings
from otel_distro.http._hooks import _cut_body, _request_body

__all__ = ["body_logging_enabled", "request_preview", "response_preview"]

_TEXT_TYPES = ("json", "xml", "text/", "x-www-form-urlencoded", "javascript", "yaml", "csv")
IGNORED_IN_PRODUCTION = (
    "EXTERNAL_HTTP_ENABLE_BODY_LOGGING=true is ignored: ENVIRONMENT=production never logs "
    "request or response bodies"
)


def body_logging_enabled(settings: Settings) -> bool:
    """Whether bodies may be previewed: the flag is on and this is not production."""
    if not settings.external_http_enable_body_logging:
        return False
    if settings.environment == "production":
        report(IGNORED_IN_PRODUCTION)
        return False
    return True


def request_preview(request: httpx.Request, limit: int) -> str | None:
    """The request body if it is in memory (``content=``, ``json=``...), cut to ``limit``."""
    return _request_body(request.stream, limit)


def _textual(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return not kind or any(part in kind for part in _TEXT_TYPES)


def response_preview(response: httpx.Response, limit: int) -> str | None:
    """The response body if the client already read it and it is text, cut to ``limit``."""
    if limit <= 0 or not _textual(response.headers.get("content-type", "")):
        return None
    try:
        data = response.content  # raises if the body was not read: a stream stays untouched
    except httpx.ResponseNotRead:
        return None
    if not data:
        return None
    if len(data) <= limit:
        return data.decode("utf-8", "replace")
    return _cut_body(data, limit).decode("utf-8", "replace") + "...[truncated]"
