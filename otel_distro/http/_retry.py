"""When an external call is tried again, and how long to wait first.

Only calls that are safe to send twice are retried: idempotent methods (RFC 9110:
``GET``, ``HEAD``, ``OPTIONS``, ``PUT``, ``DELETE``, ``TRACE``), or any method the
caller lists in ``retry_methods``, or a request carrying an ``Idempotency-Key``
header; and only when the request body can be sent again (in memory, not a stream).
What is retried: ``408``, ``429``, ``502``, ``503``, ``504`` responses, and
transport errors where the server may not have acted (connect errors and timeouts,
read/write errors, a broken protocol). Never retried: pool timeouts (the limit is
local), redirects, invalid URLs, decoding errors.
The wait is exponential backoff with jitter; a ``Retry-After`` header (seconds or an
HTTP date) replaces it, capped at ``max_retry_after`` seconds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "failure_kind",
    "retry_after_seconds",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
_RETRY_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout)
_RETRY_ERRORS_MORE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
_SECONDS = re.compile(r"\s*\d{1,10}\s*")
_MAX_HEADER = 64  # an HTTP date is 29 characters; anything longer is not a Retry-After


def failure_kind(exc: BaseException | None, status: int | None) -> str | None:
    """The coarse failure class of one attempt (``timeout``, ``connect``, ``4xx``, ...,
    ``cancelled`` when the caller stopped waiting)."""
    if exc is None:
        if status is None or status < 400:
            return None
        return "5xx" if status >= 500 else "4xx"
    if not isinstance(exc, Exception):  # CancelledError, KeyboardInterrupt: the app gave up
        return "cancelled"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol"
    if isinstance(exc, httpx.NetworkError):
        return "network"
    if isinstance(exc, httpx.TooManyRedirects):
        return "redirects"
    if isinstance(exc, httpx.HTTPError):
        return "http"
    return "other"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (delay-seconds or an HTTP date), None if absent or invalid."""
    if not value or len(value) > _MAX_HEADER:
        return None
    if _SECONDS.fullmatch(value):
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Retry settings of one client (``retries=0``: every call is sent once)."""

    retries: int = 0
    methods: frozenset[str] = IDEMPOTENT_METHODS
    statuses: frozenset[int] = RETRY_STATUSES
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    _random: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        retries: int,
        methods: Iterable[str] | None,
        statuses: Iterable[int] | None,
        backoff: float,
        max_backoff: float,
        max_retry_after: float,
    ) -> RetryPolicy:
        """A validated policy; a bad argument is a ``ValueError`` naming it."""
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ValueError(f"retries={retries!r}: expected an integer from 0 to 10")
        for name, number in (
            ("retry_backoff", backoff),
            ("retry_max_backoff", max_backoff),
            ("max_retry_after", max_retry_after),
        ):
            if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
                raise ValueError(f"{name}={number!r}: expected a number of seconds >= 0")
        chosen = IDEMPOTENT_METHODS if methods is None else frozenset(m.upper() for m in methods)
        codes = RETRY_STATUSES if statuses is None else frozenset(int(s) for s in statuses)
        return cls(
            retries, chosen, codes, float(backoff), float(max_backoff), float(max_retry_after)
        )

    def may_retry(self, request: httpx.Request) -> bool:
        """Whether this request may be sent more than once at all."""
        if self.retries <= 0 or not isinstance(request.stream, httpx.ByteStream):
            return False
        return request.method in self.methods or "idempotency-key" in request.headers

    def retries_error(self, exc: BaseException) -> bool:
        """Whether a transport error is worth another attempt."""
        if isinstance(exc, httpx.PoolTimeout):
            return False
        return isinstance(exc, _RETRY_ERRORS + _RETRY_ERRORS_MORE)

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait after ``attempt`` (1-based) failed."""
        if response is not None:
            after = retry_after_seconds(response.headers.get("retry-after"))
            if after is not None:
                return min(after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * (2.0 ** min(attempt - 1, 30)))
        jitter: float = self._random.uniform(0, ceiling / 2)
        return ceiling / 2 + jitter
