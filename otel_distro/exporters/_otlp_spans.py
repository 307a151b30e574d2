"""OTLP protobuf encoding of span batches, written directly as wire bytes.

:func:`encode_spans_request` returns exactly the bytes of the stock
``encode_spans(spans).SerializeToString()`` (same fields, order, grouping and
error behaviour: an attribute that cannot be encoded is skipped) several times
faster: it builds no intermediate protobuf objects and hashes each distinct
Resource once per batch instead of once per span.  :func:`use_fast_span_encoder`
makes the OTLP/HTTP span exporter use it, encoding in slices of
:data:`~otel_distro.exporters._slices.SLICE` spans with the GIL offered to other
threads between slices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanKind, Status

from otel_distro._state import on_reset
from otel_distro.exporters._encoder_swap import EncoderSwap
from otel_distro.exporters._otlp_logs import (
    _CACHE_LIMIT,
    _CACHED_TEXT,
    _INT64_MAX,
    _INT64_MIN,
    _SMALL,
    _attributes,
    _double,
    _field,
    _fixed32,
    _fixed64,
    _int,
    _key,
    _key_value,
    _log,
    _scope,
    _varint,
)

__all__ = ["encode_spans_request", "restore_span_encoder", "use_fast_span_encoder"]

# SDK kind -> the OTLP enum's varint field (Span.kind, field 6)
_KINDS = {
    SpanKind.INTERNAL: b"\x30\x01",
    SpanKind.SERVER: b"\x30\x02",
    SpanKind.CLIENT: b"\x30\x03",
    SpanKind.PRODUCER: b"\x30\x04",
    SpanKind.CONSUMER: b"\x30\x05",
}
# Span.flags / Link.flags: SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, plus IS_REMOTE
_LOCAL, _REMOTE = 0x100, 0x300
_SPAN_FLAGS = {False: b"\x85\x01" + _fixed32(_LOCAL), True: b"\x85\x01" + _fixed32(_REMOTE)}
_LINK_FLAGS = {False: b"\x35" + _fixed32(_LOCAL), True: b"\x35" + _fixed32(_REMOTE)}
_UINT32_MAX = 2**32 - 1
_EMPTY_STATUS = b"\x7a\x00"
_PROPERTY_ATTRIBUTES = ReadableSpan.attributes


def _uint32(tag: bytes, value: int) -> bytes:
    if not 0 <= value <= _UINT32_MAX:
        raise ValueError(f"Value out of range: {value}")
    return tag + _varint(value)


# Span attributes: ``key -> value -> KeyValue field`` for short strings and bools,
# and ``key -> key field + value tag`` for everything else of the common kinds
# (bounded caches, as on the log side).
_span_pairs: dict[str, dict[Any, bytes]] = {}
_prefixes: dict[str, bytes] = {}
_VALUES_PER_KEY = 256


def _span_attributes(items: Any, append: Callable[[bytes], None]) -> None:
    """Append one ``KeyValue`` field (Span.attributes, field 9) per attribute."""
    small = _SMALL
    for key, value in items.items():
        kind = type(value)
        if type(key) is not str:
            pass
        elif kind is str:
            by_value = _span_pairs.get(key)
            if by_value is not None:
                encoded = by_value.get(value)
                if encoded is not None:
                    append(encoded)
                    continue
            prefix = _prefixes.get(key)
            if prefix is not None and len(value) > _CACHED_TEXT // 4:
                data = value.encode()  # a long or varying value (a path): not cached
                size = len(data)
                scalar = b"\x0a" + (small[size] if size < 128 else _varint(size)) + data
                size = len(scalar)
                pair = prefix + (small[size] if size < 128 else _varint(size)) + scalar
                size = len(pair)
                append(b"\x4a" + (small[size] if size < 128 else _varint(size)) + pair)
                continue
        elif kind is int or kind is float:
            prefix = _prefixes.get(key)
            if prefix is not None:
                if kind is float:
                    scalar = b"\x21" + _double(value)
                elif 0 <= value < 128:
                    scalar = b"\x18" + small[value]
                elif _INT64_MIN <= value <= _INT64_MAX:
                    scalar = _int(value)
                else:
                    scalar = b""
                if scalar:
                    pair = prefix + small[len(scalar)] + scalar
                    size = len(pair)
                    append(b"\x4a" + (small[size] if size < 128 else _varint(size)) + pair)
                    continue
        elif kind is bool:
            by_value = _span_pairs.get(key)
            encoded = by_value.get((value,)) if by_value is not None else None
            if encoded is not None:
                append(encoded)
                continue
        try:
            append(_span_pair(key, value))
        except Exception as error:
            _log.exception("Failed to encode key %s: %s", key, error)


def _span_pair(key: Any, value: Any) -> bytes:
    """A span attribute's ``KeyValue`` field, filling the caches used above."""
    encoded = _field(b"\x4a", _key_value(key, value))
    if type(key) is not str:
        return encoded
    kind = type(value)
    if (kind is str and len(value) <= _CACHED_TEXT // 4) or kind is bool:
        by_value = _span_pairs.get(key)
        if by_value is None:
            if len(_span_pairs) >= _CACHE_LIMIT:
                _span_pairs.clear()
            by_value = _span_pairs[key] = {}
        elif len(by_value) >= _VALUES_PER_KEY:
            by_value.clear()
        by_value[value if kind is str else (value,)] = encoded  # True must not meet "1" or 1
    elif kind in (str, int, float) and key not in _prefixes:
        if len(_prefixes) >= _CACHE_LIMIT:
            _prefixes.clear()
        _prefixes[key] = _key(key) + b"\x12"
    return encoded


def _items(attributes: Any) -> Any:
    return attributes._dict if type(attributes) is BoundedAttributes else attributes


def _span(span: ReadableSpan) -> bytes:
    context = span.get_span_context()
    if context is None:  # the stock encoder fails on it too
        raise ValueError("a span without a context")
    parts: list[bytes] = [
        b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
        b"\x12\x08" + context.span_id.to_bytes(8, "big"),
    ]
    append = parts.append
    trace_state = context.trace_state
    if trace_state:
        state = ",".join([f"{key}={value}" for key, value in trace_state.items()])
        append(_field(b"\x1a", state.encode()))
    parent = span.parent
    if parent:
        append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
    name = span.name
    if name:
        append(_field(b"\x2a", name.encode()))
    append(_KINDS[span.kind])
    if span.start_time:
        append(b"\x39" + _fixed64(span.start_time))
    if span.end_time:
        append(b"\x41" + _fixed64(span.end_time))
    # the SDK's own property wraps the attributes in a proxy: read them directly
    if type(span).attributes is _PROPERTY_ATTRIBUTES:
        attributes = span._attributes
    else:
        attributes = span.attributes
    if attributes:
        _span_attributes(_items(attributes), append)
    dropped = span.dropped_attributes
    if dropped:
        append(_uint32(b"\x50", dropped))
    for event in span.events:
        append(_field(b"\x5a", _event(event)))
    dropped = span.dropped_events
    if dropped:
        append(_uint32(b"\x60", dropped))
    for link in span.links:
        append(_field(b"\x6a", _link(link)))
    dropped = span.dropped_links
    if dropped:
        append(_uint32(b"\x70", dropped))
    append(_status(span.status))
    append(_SPAN_FLAGS[bool(parent and parent.is_remote)])
    return b"".join(parts)


def _status(status: Status | None) -> bytes:
    if status is None:
        return b""
    code = status.status_code.value
    description = status.description
    if not code and not description:
        return _EMPTY_STATUS
    body = _field(b"\x12", description.encode()) if description else b""
    if code:
        body += b"\x18" + _varint(code)
    return _field(b"\x7a", body)


def _event(event: Event) -> bytes:
    parts = []
    if event.timestamp:
        parts.append(b"\x09" + _fixed64(event.timestamp))
    if event.name:
        parts.append(_field(b"\x12", event.name.encode()))
    parts.append(_attributes(b"\x1a", event.attributes))
    dropped = event.dropped_attributes
    if dropped:
        parts.append(_uint32(b"\x20", dropped))
    return b"".join(parts)


def _link(link: Link) -> bytes:
    context = link.context
    parts = [
        b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
        b"\x12\x08" + context.span_id.to_bytes(8, "big"),
        _attributes(b"\x22", link.attributes),
    ]
    dropped = link.dropped_attributes
    if dropped:
        parts.append(_uint32(b"\x28", dropped))
    parts.append(_LINK_FLAGS[bool(context and context.is_remote)])
    return b"".join(parts)


def _request(spans: Iterable[ReadableSpan]) -> bytes:
    resources: dict[Resource, dict[InstrumentationScope | None, list[bytes]]] = {}
    groups: dict[tuple[int, int], list[bytes]] = {}
    for span in spans:
        resource = span.resource
        scope = span.instrumentation_scope or None
        key = (id(resource), id(scope))  # equal objects hash once per batch, not per span
        encoded = groups.get(key)
        if encoded is None:
            scopes = resources.setdefault(resource, {})
            encoded = groups[key] = scopes.setdefault(scope, [])
        body = _span(span)
        size = len(body)
        encoded.append(b"\x12" + (_SMALL[size] if size < 128 else _varint(size)) + body)
    out = []
    for resource, scopes in resources.items():
        parts = [_field(b"\x0a", _attributes(b"\x0a", resource.attributes))]
        for scope, encoded in scopes.items():
            body = _field(b"\x0a", _scope(scope)) + b"".join(encoded)
            schema = scope.schema_url if scope is not None else None
            if schema:
                body += _field(b"\x1a", schema.encode())
            parts.append(_field(b"\x12", body))
        if resource.schema_url:
            parts.append(_field(b"\x1a", resource.schema_url.encode()))
        out.append(_field(b"\x0a", b"".join(parts)))
    return b"".join(out)


def encode_spans_request(spans: Sequence[ReadableSpan]) -> bytes:
    """The serialized ``ExportTraceServiceRequest`` for *spans*."""
    return _request(spans)


_SWAP = EncoderSwap(
    "exporters.otlp_spans",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "encode_spans",
    lambda spans: _request(spans),  # looked up per call (tests replace it)
)
#: What the OTLP/HTTP span exporter calls while :func:`use_fast_span_encoder` is in force.
_encode_spans = _SWAP.encode


def use_fast_span_encoder() -> bool:
    """Make the OTLP/HTTP span exporter encode with :func:`encode_spans_request`."""
    return _SWAP.use()


def restore_span_encoder() -> None:
    """Undo :func:`use_fast_span_encoder` (tests; part of :func:`otel_distro._state.reset`)."""
    _SWAP.restore()


def _clear_caches() -> None:
    """Empty the caches of encoded attributes (part of :func:`otel_distro._state.reset`)."""
    _span_pairs.clear()
    _prefixes.clear()


on_reset("exporters.otlp_spans.caches", _clear_caches)
