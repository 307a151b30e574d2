"""Response headers the distro adds: ``traceresponse``, the request id, CORS exposure.

A good guest never changes what the app built:

- The app's header list (a cached ``Response`` object's ``raw_headers``, a raw ASGI
  app's module-level list) is never written to.  The ASGI layer
  (:func:`own_response_headers`) hands the server a copy of each response-start
  message with a :class:`ResponseHeaders` copy of its headers, and only that copy
  receives our headers.  A message reaching :class:`RequestIdResponsePropagator`
  without such a copy gets one there.
- A header the app already set is never added again: the app's request id wins (its
  value is recorded, sanitised, on the server span as ``http.response.header.<name>``;
  the trace id it replaced is the span's own), and so does its ``traceresponse``.
- ``access-control-expose-headers`` is added only when the request carried an
  ``Origin`` header (not on a preflight), and then merged into the app's own value
  instead of being sent a second time; it names only the headers the distro added.
- ``OTEL_DISTRO_RESPONSE_HEADERS``: ``http`` (default) adds them to HTTP responses,
  ``all`` also to websocket handshakes, ``off`` adds none at all (responses are
  byte-identical to the uninstrumented app's).  ``OTEL_DISTRO_REQUEST_ID_HEADER=off``
  drops only the request-id header.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.propagators import (
    ResponsePropagator,
    default_setter,
    get_global_response_propagator,
)
from opentelemetry.trace import Span, SpanContext, format_span_id, format_trace_id

from otel_distro._asgi_types import Message, Scope, Send
from otel_distro._report import internal_error

__all__ = [
    "RESPONSE_HEADER_MODES",
    "RequestIdResponsePropagator",
    "ResponseHeaders",
    "own_response_headers",
]

RESPONSE_HEADER_MODES = ("http", "all", "off")
HTTP_START = "http.response.start"
WEBSOCKET_STARTS = ("websocket.accept", "websocket.http.response.start")
TRACERESPONSE = "traceresponse"
EXPOSE = "access-control-expose-headers"
_EXPOSE_BYTES = EXPOSE.encode("latin-1")


class ResponseHeaders(list[Any]):
    """A copy of a response's header list that belongs to the distro.

    ``cors`` says whether the request was a CORS request (``Origin``, not a preflight).
    ``source`` is set on a copy the propagator had to put into the app's own message
    (no ASGI-layer copy): that message may be sent again for a later response, so each
    use starts again from the app's ``source`` list.
    """

    __slots__ = ("cors", "in_app_message", "source")

    def __init__(
        self,
        headers: Iterable[Any],
        *,
        cors: bool,
        source: Any = None,
        in_app_message: bool = False,
    ) -> None:
        super().__init__(headers)
        self.cors = cors
        self.source = source
        self.in_app_message = in_app_message


def _name(raw: object) -> str:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("latin-1").lower()
    return str(raw).lower()


def _text(raw: object) -> str:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("latin-1")
    return str(raw)


def _request_header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if isinstance(key, bytes) and key.lower() == name:
            return value if isinstance(value, bytes) else None
    return None


def is_cors_request(scope: Scope) -> bool:
    """Whether a request is a CORS request: an ``Origin`` header, and not a preflight
    (``OPTIONS`` with ``Access-Control-Request-Method``)."""
    if _request_header(scope, b"origin") is None:
        return False
    return not (
        scope.get("method") == "OPTIONS"
        and _request_header(scope, b"access-control-request-method") is not None
    )


class RequestIdResponsePropagator(ResponsePropagator):
    """Adds ``traceresponse`` and the request-id header (the trace id) to responses.

    On ASGI messages it writes only to a :class:`ResponseHeaders` copy, never
    repeats a header the app set and exposes its headers only to CORS requests.
    Other carriers get ``traceresponse`` and the request id through ``setter``.
    """

    def __init__(self, request_id_header: str, *, websocket: bool = False) -> None:
        self.request_id_header = request_id_header.lower()
        self._request_id_bytes = self.request_id_header.encode("latin-1")
        self._request_id_attribute = f"http.response.header.{self.request_id_header}"
        self.message_types: tuple[str, ...] = (
            (HTTP_START, *WEBSOCKET_STARTS) if websocket else (HTTP_START,)
        )

    def inject(
        self,
        carrier: Any,
        context: Context | None = None,
        setter: Any = default_setter,
    ) -> None:
        try:
            if isinstance(carrier, MutableMapping) and isinstance(carrier.get("type"), str):
                if carrier["type"] in self.message_types:
                    self._inject_asgi(carrier, context)
                return
            span_context = trace.get_current_span(context).get_span_context()
            if not span_context.is_valid:
                return
            setter.set(carrier, TRACERESPONSE, _traceresponse(span_context))
            if self.request_id_header:
                setter.set(carrier, self.request_id_header, format_trace_id(span_context.trace_id))
        except Exception:
            internal_error("response headers")

    def _inject_asgi(self, message: Message, context: Context | None) -> None:
        span = trace.get_current_span(context)
        span_context = span.get_span_context()
        if not span_context.is_valid:
            return
        headers = message.get("headers")
        if not isinstance(headers, ResponseHeaders) or headers.in_app_message:
            # the app's own message (no ASGI-layer copy): our copy of the app's list
            source = headers.source if isinstance(headers, ResponseHeaders) else headers
            headers = ResponseHeaders(source or (), cors=False, source=source, in_app_message=True)
            message["headers"] = headers
        present = {_name(item[0]): index for index, item in enumerate(headers)}
        added: list[str] = []
        if TRACERESPONSE not in present:
            headers.append((b"traceresponse", _traceresponse(span_context).encode("latin-1")))
            added.append(TRACERESPONSE)
        if self.request_id_header:
            if self.request_id_header in present:
                self._record_app_request_id(span, headers[present[self.request_id_header]][1])
            else:
                trace_id = format_trace_id(span_context.trace_id).encode("latin-1")
                headers.append((self._request_id_bytes, trace_id))
                added.append(self.request_id_header)
        if headers.cors and added:
            _expose(headers, present.get(EXPOSE), added)

    def _record_app_request_id(self, span: Span, value: object) -> None:
        if not span.is_recording():
            return
        from otel_distro.asgi import sanitize_request_id

        cleaned = sanitize_request_id(_text(value))
        if cleaned:
            span.set_attribute(self._request_id_attribute, [cleaned])


def _traceresponse(span_context: SpanContext) -> str:
    return (
        f"00-{format_trace_id(span_context.trace_id)}-{format_span_id(span_context.span_id)}"
        f"-{span_context.trace_flags:02x}"
    )


def _expose(headers: ResponseHeaders, index: int | None, added: list[str]) -> None:
    """Name ``added`` in the response's one ``access-control-expose-headers`` header."""
    if index is None:
        headers.append((_EXPOSE_BYTES, ", ".join(added).encode("latin-1")))
        return
    name, value = headers[index][0], _text(headers[index][1])
    listed = {token.strip().lower() for token in value.split(",")}
    missing = [each for each in added if each not in listed]
    if missing:
        merged = ", ".join([value.strip(), *missing]) if value.strip() else ", ".join(missing)
        headers[index] = (name, merged.encode("latin-1"))  # replaced in our copy only


def own_response_headers(scope: Scope, send: Send) -> Send:
    """``send`` that hands the server a copy of each response start, with headers of our own.

    Returns ``send`` itself when the distro adds no response headers to this scope
    (``OTEL_DISTRO_RESPONSE_HEADERS=off``, a websocket without ``all``, lifespan).
    """
    try:
        propagator = get_global_response_propagator()  # type: ignore[no-untyped-call]
        if not isinstance(propagator, RequestIdResponsePropagator):
            return send
        kind = scope.get("type")
        types = propagator.message_types
        if kind not in ("http", "websocket"):
            return send
        if kind == "websocket" and WEBSOCKET_STARTS[0] not in types:
            return send
        cors = is_cors_request(scope)
    except Exception:
        internal_error("response headers")
        return send

    async def send_own_copy(message: Message) -> None:
        if message.get("type") in types:
            try:
                headers = message.get("headers") or ()
                message = {**message, "headers": ResponseHeaders(headers, cors=cors)}
            except Exception:
                internal_error("response headers")
        await send(message)

    return send_own_copy
