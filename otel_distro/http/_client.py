"""``create_external_client`` / ``create_external_async_client``: httpx clients for third parties.

Every call made through one of these clients gets one CLIENT span carrying
``peer.service`` and a sanitised ``url.full``, one ``external_http_call`` record
(method, sanitised URL, status, duration, attempts, redacted headers, body
preview outside production), and per-attempt metric points.  Retries are opt-in
(``retries=N``, see :mod:`otel_distro.http._retry`).  The httpx instrumentation is
suppressed inside the call, so a call is never recorded twice.

The clients are plain :class:`httpx.Client` / :class:`httpx.AsyncClient`
subclasses: use them with ``with``/``async with``, or create one at startup and
close it at shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import httpx
from opentelemetry.instrumentation.utils import suppress_http_instrumentation
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from otel_distro._report import guarded, internal_error
from otel_distro.config import get_settings
from otel_distro.http._body import body_logging_enabled
from otel_distro.http._call import CallTelemetry, Instruments, instruments
from otel_distro.http._retry import RetryPolicy
from otel_distro.redaction import get_redactor

__all__ = [
    "ExternalAsyncClient",
    "ExternalClient",
    "create_external_async_client",
    "create_external_client",
]

_MAX_SERVICE = 128


def _check_service(service: object) -> str:
    if not isinstance(service, str) or not service.strip() or len(service) > _MAX_SERVICE:
        raise ValueError(
            f"service={service!r}: expected a non-empty name of at most {_MAX_SERVICE} characters "
            "(it becomes the bounded metric attribute peer.service)"
        )
    return service.strip()


def _check_base_url(base_url: object) -> str | httpx.URL:
    if base_url in ("", None):
        return ""
    if not isinstance(base_url, (str, httpx.URL)):
        raise ValueError(f"base_url={base_url!r}: expected an absolute http(s) URL string")
    shown = get_redactor().redact_url(str(base_url))
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"base_url={shown!r} is not an absolute http(s) URL "
            "(expected e.g. 'https://api.example.com')"
        )
    return base_url


def _timeout(timeout: Any) -> httpx.Timeout:
    if timeout is None:
        return httpx.Timeout(get_settings().external_http_timeout_seconds)
    if isinstance(timeout, httpx.Timeout):
        if None in (timeout.connect, timeout.read, timeout.write, timeout.pool):
            default = get_settings().external_http_timeout_seconds
            return httpx.Timeout(
                connect=default if timeout.connect is None else timeout.connect,
                read=default if timeout.read is None else timeout.read,
                write=default if timeout.write is None else timeout.write,
                pool=default if timeout.pool is None else timeout.pool,
            )
        return timeout
    return httpx.Timeout(timeout)


class _External:
    """What both clients share: the service name, the retry policy, the instruments."""

    _service: str = "unknown"
    _policy: RetryPolicy = RetryPolicy()
    _tools: Instruments | None = None

    def _setup(
        self,
        service: str,
        policy: RetryPolicy,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
    ) -> None:
        self._service = service
        self._policy = policy
        self._tools = instruments(tracer_provider, meter_provider)
        body_logging_enabled(get_settings())  # says once if production ignores the flag

    @property
    def service(self) -> str:
        """The ``peer.service`` of every call made with this client."""
        return self._service

    def _begin(self, request: httpx.Request, default: httpx.Timeout) -> CallTelemetry | None:
        limits = request.extensions.get("timeout")
        if isinstance(limits, dict) and None in limits.values():  # a timeout is always set
            fallback = default.as_dict()
            request.extensions["timeout"] = {
                name: fallback.get(name) if value is None else value
                for name, value in limits.items()
            }
        try:
            tools = self._tools or instruments()
            call = CallTelemetry(tools, self._service, request, self._policy.retries > 0)
        except Exception:
            internal_error("http.client.start")
            return None
        with guarded("http.client.inject"):
            call.inject()
        return call

    def _after_attempt(
        self,
        attempt: int,
        may_retry: bool,
        call: CallTelemetry | None,
        response: httpx.Response | None,
        exc: Exception | None,
    ) -> float | None:
        """Record one attempt; the delay before the next one, or None to stop."""
        delay: float | None = None
        policy = self._policy
        if may_retry and attempt <= policy.retries:
            if response is None:
                retry = exc is not None and policy.retries_error(exc)
            else:
                retry = response.status_code in policy.statuses
            if retry:
                delay = policy.delay(attempt, response)
        if call is not None:
            with guarded("http.client.attempt"):
                call.end_attempt(response, exc, delay)
        return delay

    def _finish(
        self,
        call: CallTelemetry | None,
        response: httpx.Response | None,
        exc: BaseException | None,
    ) -> None:
        if call is not None:
            with guarded("http.client.finish"):
                call.finish(response, exc)


class ExternalClient(_External, httpx.Client):
    """A synchronous :class:`httpx.Client` whose calls are observed (see the module).

    Build it with :func:`create_external_client`, which validates the arguments.
    """

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """Send ``request`` with observability and, if configured, retries."""
        call = self._begin(request, self.timeout)
        try:
            response = self._attempts(request, kwargs, call)
        except BaseException as exc:
            self._finish(call, None, exc)
            raise
        self._finish(call, response, None)
        return response

    def _attempts(
        self, request: httpx.Request, kwargs: dict[str, Any], call: CallTelemetry | None
    ) -> httpx.Response:
        may_retry = self._policy.may_retry(request)
        attempt = 0
        while True:
            attempt += 1
            if call is not None:
                call.start_attempt()
            try:
                with suppress_http_instrumentation():
                    response = super().send(request, **kwargs)
            except Exception as exc:
                delay = self._after_attempt(attempt, may_retry, call, None, exc)
                if delay is None:
                    raise
                time.sleep(delay)
                continue
            delay = self._after_attempt(attempt, may_retry, call, response, None)
            if delay is None:
                return response
            response.close()
            time.sleep(delay)


class ExternalAsyncClient(_External, httpx.AsyncClient):
    """An :class:`httpx.AsyncClient` whose calls are observed (see the module).

    Build it with :func:`create_external_async_client`, which validates the arguments.
    """

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """Send ``request`` with observability and, if configured, retries."""
        call = self._begin(request, self.timeout)
        try:
            response = await self._attempts(request, kwargs, call)
        except BaseException as exc:
            self._finish(call, None, exc)
            raise
        self._finish(call, response, None)
        return response

    async def _attempts(
        self, request: httpx.Request, kwargs: dict[str, Any], call: CallTelemetry | None
    ) -> httpx.Response:
        may_retry = self._policy.may_retry(request)
        attempt = 0
        while True:
            attempt += 1
            if call is not None:
                call.start_attempt()
            try:
                with suppress_http_instrumentation():
                    response = await super().send(request, **kwargs)
            except Exception as exc:
                delay = self._after_attempt(attempt, may_retry, call, None, exc)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                continue
            delay = self._after_attempt(attempt, may_retry, call, response, None)
            if delay is None:
                return response
            await response.aclose()
            await asyncio.sleep(delay)


def _options(
    service: str,
    base_url: Any,
    timeout: Any,
    retries: int,
    retry_methods: Iterable[str] | None,
    retry_statuses: Iterable[int] | None,
    retry_backoff: float,
    retry_max_backoff: float,
    max_retry_after: float,
) -> tuple[str, Any, httpx.Timeout, RetryPolicy]:
    policy = RetryPolicy.build(
        retries, retry_methods, retry_statuses, retry_backoff, retry_max_backoff, max_retry_after
    )
    return _check_service(service), _check_base_url(base_url), _timeout(timeout), policy


def create_external_client(
    service: str,
    base_url: str | httpx.URL = "",
    *,
    timeout: float | httpx.Timeout | None = None,
    retries: int = 0,
    retry_methods: Iterable[str] | None = None,
    retry_statuses: Iterable[int] | None = None,
    retry_backoff: float = 0.5,
    retry_max_backoff: float = 8.0,
    max_retry_after: float = 30.0,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    **httpx_options: Any,
) -> ExternalClient:
    """A synchronous httpx client for the third party ``service``; see
    :func:`create_external_async_client` for the arguments."""
    name, url, limit, policy = _options(
        service, base_url, timeout, retries, retry_methods, retry_statuses,
        retry_backoff, retry_max_backoff, max_retry_after,
    )  # fmt: skip
    client = ExternalClient(base_url=url, timeout=limit, **httpx_options)
    client._setup(name, policy, tracer_provider, meter_provider)
    return client


def create_external_async_client(
    service: str,
    base_url: str | httpx.URL = "",
    *,
    timeout: float | httpx.Timeout | None = None,
    retries: int = 0,
    retry_methods: Iterable[str] | None = None,
    retry_statuses: Iterable[int] | None = None,
    retry_backoff: float = 0.5,
    retry_max_backoff: float = 8.0,
    max_retry_after: float = 30.0,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    **httpx_options: Any,
) -> ExternalAsyncClient:
    """An :class:`httpx.AsyncClient` for the third party ``service``, observed and bounded.

    ``service`` becomes ``peer.service`` on spans, records and metrics. ``base_url``
    must be an absolute http(s) URL (else ``ValueError``, naming it redacted).
    ``timeout`` defaults to ``EXTERNAL_HTTP_TIMEOUT_SECONDS``; a ``None`` part of an
    :class:`httpx.Timeout`, given here or for one request (and a per-request
    ``timeout=None``), gets that default too.
    ``retries`` extra attempts are made for retryable outcomes of idempotent calls
    (``retry_methods`` replaces the idempotent set; an ``Idempotency-Key`` header
    makes any call retryable; ``retry_statuses`` replaces 408/429/502/503/504),
    waiting ``retry_backoff * 2**n`` seconds (at most ``retry_max_backoff``, with
    jitter) or the response's ``Retry-After`` (at most ``max_retry_after``).
    Other keyword arguments go to :class:`httpx.AsyncClient` unchanged.
    """
    name, url, limit, policy = _options(
        service, base_url, timeout, retries, retry_methods, retry_statuses,
        retry_backoff, retry_max_backoff, max_retry_after,
    )  # fmt: skip
    client = ExternalAsyncClient(base_url=url, timeout=limit, **httpx_options)
    client._setup(name, policy, tracer_provider, meter_provider)
    return client
