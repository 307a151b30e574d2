"""The telemetry of one external call: its client span, metric points and log record.

One :class:`CallTelemetry` lives for one ``send`` of a factory client: it opens the
CLIENT span (``peer.service``, sanitised ``url.full``), adds an event per attempt,
records ``http.client.request.duration`` and ``otel_distro.external_http.failures``
per attempt, and at the end sets the outcome on the span and emits the
``external_http_call`` record.  URLs and headers go through the redactor here,
and again in the export pipeline.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.metrics import Counter, Histogram, MeterProvider, get_meter
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from otel_distro.config import get_settings
from otel_distro.http import _hooks
from otel_distro.http._body import body_logging_enabled, request_preview, response_preview
from otel_distro.http._retry import failure_kind
from otel_distro.redaction import REDACTED, get_redactor

__all__ = ["DURATION_BUCKETS", "CallTelemetry", "Instruments", "instruments"]

SCOPE = "otel_distro.http"
#: Semantic-convention bucket boundaries for ``http.client.request.duration`` (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
_BAGGAGE = "baggage"


@dataclass(frozen=True)
class Instruments:
    """The tracer and the two instruments a factory client records with."""

    tracer: trace.Tracer
    duration: Histogram
    failures: Counter


_global: list[Instruments] = []


def instruments(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> Instruments:
    """Instruments for these providers; for the global ones (the default) created once."""
    shared = tracer_provider is None and meter_provider is None
    if shared and _global:
        return _global[0]
    from otel_distro import __version__

    tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
    meter = get_meter(SCOPE, __version__, meter_provider)
    made = Instruments(
        tracer=tracer,
        duration=meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests (each attempt).",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        ),
        failures=meter.create_counter(
            "otel_distro.external_http.failures",
            unit="{failure}",
            description="Failed attempts of external HTTP calls, by error type.",
        ),
    )
    if shared:
        _global.append(made)
    return made


def _method(request: httpx.Request) -> str:
    return request.method if request.method in _METHODS else "_OTHER"


def _error_type(exc: BaseException | None, status: int | None) -> str | None:
    if exc is not None:
        return type(exc).__qualname__
    if status is not None and status >= 400:
        return str(status)
    return None


_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_MEMO_SIZE = 512


def _masked_baggage(value: str) -> str:
    """A ``baggage`` header with its signature entry's value masked.

    ``otel_distro.sig`` vouches for the tenant and user on this trace to every
    trusting service until it expires: a credential, whose shape the redactor does
    not know.  Every other entry is left to the redactor.
    """
    from otel_distro.baggage_signing import SIGNATURE_KEY
    from otel_distro.propagation import _normalized_key

    members = value.split(",")
    for index, member in enumerate(members):
        key, sep, _ = member.partition("=")
        if sep and _normalized_key(key.strip()) == SIGNATURE_KEY:
            members[index] = f"{key}={REDACTED}"
    return ",".join(members)


class _Memo:
    """Redacted URLs and header sets seen before: a client calls the same endpoints
    with the same headers again and again.  Bounded, and forgotten when the redactor
    is rebuilt (new settings or rules)."""

    def __init__(self) -> None:
        self._redactor: Any = None
        self._urls: dict[str, str] = {}
        self._headers: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, str]] = {}

    def _current(self) -> Any:
        redactor = get_redactor()
        if redactor is not self._redactor:
            self._urls, self._headers, self._redactor = {}, {}, redactor
        return redactor

    def url(self, raw: str) -> str:
        redactor = self._current()
        found = self._urls.get(raw)
        if found is None:
            found = redactor.redact_url(raw)
            if len(self._urls) >= _MEMO_SIZE:
                self._urls = {}
            self._urls[raw] = found
        return found

    def headers(self, prefix: str, headers: httpx.Headers) -> dict[str, str]:
        """``{prefix + name: redacted value}``; repeated values are joined with ``, ``."""
        redactor = self._current()
        joined: dict[str, str] = {}
        traceparent: str | None = None
        for name, value in headers.multi_items():
            key = name.lower()
            if key == "traceparent" and traceparent is None and _TRACEPARENT.fullmatch(value):
                traceparent = value  # ours, hex ids only: nothing to redact
                continue
            if key == _BAGGAGE:
                value = _masked_baggage(value)
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        memo_key = (prefix, tuple(joined.items()))
        found = self._headers.get(memo_key)
        if found is None:
            clean = redactor.redact_mapping(joined)
            found = {f"{prefix}{name}": str(value) for name, value in clean.items()}
            if len(self._headers) >= _MEMO_SIZE:
                self._headers = {}
            self._headers[memo_key] = found
        if traceparent is None:
            return found
        return {**found, f"{prefix}traceparent": traceparent}


_memo = _Memo()


_policy: list[Any] = [None, None]  # [settings, DestinationPolicy built from them]


def _allowed(host: str) -> bool:
    """Whether ``OTEL_DISTRO_BAGGAGE_PROPAGATE_TO`` lets baggage go to ``host``."""
    from otel_distro.propagation import DestinationPolicy

    settings = get_settings()
    settings_then, policy = _policy
    if settings_then is not settings or policy is None:
        policy = DestinationPolicy(settings.baggage_propagate_to)
        _policy[:] = [settings, policy]
    return bool(policy.allows(host))


def _cancelled(exc: BaseException | None) -> bool:
    """Whether the caller stopped waiting (``CancelledError``...): no failure of the peer."""
    return exc is not None and not isinstance(exc, Exception)


def _level(exc: BaseException | None, status: int | None) -> str:
    """info for 1xx-3xx, warning for 4xx and cancelled calls, error for 5xx and transport
    errors."""
    if _cancelled(exc):
        return "warning"
    if exc is not None or status is None or status >= 500:
        return "error"
    return "warning" if status >= 400 else "info"


class CallTelemetry:
    """Span, metrics and record of one logical call (all its attempts)."""

    def __init__(
        self, tools: Instruments, service: str, request: httpx.Request, events: bool = True
    ) -> None:
        self.tools = tools
        self.events = events  # one span event per attempt (clients with retries)
        self.service = service
        self.request = request
        self.method = _method(request)
        self.url = _memo.url(str(request.url))
        self.attempts = 0
        self.started = time.perf_counter()
        self._attempt_started = self.started
        attributes: dict[str, AttributeValue] = {
            "http.request.method": self.method,
            "url.full": self.url,
            "server.address": request.url.host,
            "peer.service": service,
        }
        if request.url.port is not None:
            attributes["server.port"] = request.url.port
        if self.method == "_OTHER":
            attributes["http.request.method_original"] = request.method
        self.span = tools.tracer.start_span(
            self.method, kind=SpanKind.CLIENT, attributes=attributes
        )
        try:
            self._token = otel_context.attach(trace.set_span_in_context(self.span))
        except BaseException:
            self.span.end()  # never leave a started span open
            raise

    def inject(self) -> None:
        """Trace context into the request; baggage only to an allowed destination."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        allowed = _BAGGAGE not in carrier or _allowed(self.request.url.host)
        for name, value in carrier.items():
            if name.lower() != _BAGGAGE or allowed:
                self.request.headers[name] = value

    def start_attempt(self) -> None:
        self.attempts += 1
        self._attempt_started = time.perf_counter()

    def end_attempt(
        self,
        response: httpx.Response | None,
        exc: BaseException | None,
        delay: float | None,
    ) -> None:
        """One attempt's metric points and span event (``delay``: wait before the next)."""
        status = response.status_code if response is not None else None
        error_type = _error_type(exc, status)
        point: dict[str, AttributeValue] = {
            "peer.service": self.service,
            "http.request.method": self.method,
        }
        if status is not None:
            point["http.response.status_code"] = status
        if error_type is not None:
            point["error.type"] = error_type
        elapsed = time.perf_counter() - self._attempt_started
        self.tools.duration.record(elapsed, point)
        kind = failure_kind(exc, status)
        if kind is not None:
            self.tools.failures.add(
                1,
                {
                    "peer.service": self.service,
                    "http.request.method": self.method,
                    "error.type": kind,
                },
            )
        if not self.events:
            return
        event: dict[str, AttributeValue] = {
            "http.request.attempt": self.attempts,
            "outcome": str(status) if exc is None and status is not None else (kind or "error"),
            "duration_s": round(elapsed, 6),
        }
        if status is not None:
            event["http.response.status_code"] = status
        if error_type is not None:
            event["error.type"] = error_type
        if delay is not None:
            event["retry.delay_s"] = round(delay, 3)
        self.span.add_event("http.attempt", event)

    def finish(self, response: httpx.Response | None, exc: BaseException | None) -> None:
        """Outcome on the span, the ``external_http_call`` record, then the span ends."""
        try:
            status = response.status_code if response is not None else None
            error_type = _error_type(exc, status)
            span = self.span
            outcome: dict[str, AttributeValue] = {"otel_distro.http.attempts": self.attempts}
            if self.attempts > 1:
                outcome["http.request.resend_count"] = self.attempts - 1
            if status is not None:
                outcome["http.response.status_code"] = status
            cancelled = _cancelled(exc)
            if error_type is not None:
                outcome["error.type"] = error_type
                if not cancelled:
                    span.set_status(Status(StatusCode.ERROR))
            span.set_attributes(outcome)
            if exc is not None and not cancelled:
                span.record_exception(exc)
            self._emit(response, exc, status, error_type)
        finally:
            otel_context.detach(self._token)
            self.span.end()

    def _emit(
        self,
        response: httpx.Response | None,
        exc: BaseException | None,
        status: int | None,
        error_type: str | None,
    ) -> None:
        fields: dict[str, object] = {
            "peer.service": self.service,
            "http.request.method": self.method,
            "url.full": self.url,
            "server.address": self.request.url.host,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "attempts": self.attempts,
        }
        if status is not None:
            fields["http.response.status_code"] = status
        if error_type is not None:
            fields["error.type"] = error_type
            fields["otel_distro.failure"] = failure_kind(exc, status)
        fields.update(_memo.headers("http.request.header.", self.request.headers))
        if response is not None:
            fields.update(_memo.headers("http.response.header.", response.headers))
        settings = get_settings()
        if body_logging_enabled(settings):
            limit = settings.external_http_max_body_bytes
            redactor = get_redactor()
            body = request_preview(self.request, limit)
            if body is not None:
                fields["http.request.body"] = redactor.redact_value(body, "http.request.body")
            if response is not None:
                body = response_preview(response, limit)
                if body is not None:
                    fields["http.response.body"] = redactor.redact_value(body, "http.response.body")
        _hooks._emit(_level(exc, status), _hooks.EVENT, fields)
