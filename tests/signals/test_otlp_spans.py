"""The direct span encoder writes the stock encoder's exact bytes, over generated spans."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceState,
    set_span_in_context,
)

from otel_distro.exporters._otlp_spans import encode_spans_request
from otel_distro.exporters.redacting import _RedactedSpan

# --- strategies -------------------------------------------------------------------

_INT64 = st.integers(-(2**63), 2**63 - 1)
_SCALARS: list[st.SearchStrategy[Any]] = [
    st.text(max_size=40),
    st.sampled_from(["GET", "/items/{id}", "", "é ü 中"]),  # repeated values hit the caches
    st.booleans(),
    _INT64,
    st.sampled_from([0, 1, -1, 127, 128, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308]),
]
_SCALAR = st.one_of(*_SCALARS)
_SEQUENCE = st.one_of(*[st.lists(s, max_size=4) for s in _SCALARS]).map(tuple)
# what no SDK-cleaned mapping holds, but a raw one may: the stock encoder skips or encodes it
_RAW = st.one_of(
    st.integers(2**63, 2**70) | st.integers(-(2**70), -(2**63) - 1),
    st.binary(max_size=8),
    st.none(),
    st.lists(_SCALAR, max_size=3),
    st.dictionaries(st.text(max_size=5), _SCALAR, max_size=3),
)
_KEY = st.one_of(st.text(max_size=20), st.sampled_from(["http.route", "server.port", "k"]))


@st.composite
def attributes(draw: st.DrawFn, raw: bool = True) -> Any:
    values = _SCALAR | _SEQUENCE | (_RAW if raw else st.nothing())
    items = draw(st.dictionaries(_KEY, values, max_size=6))
    if draw(st.booleans()):
        return items  # a plain mapping, as a hand-built span may carry
    limit = draw(st.none() | st.integers(0, 6))  # a bounded one may have dropped some
    return BoundedAttributes(maxlen=limit, attributes=items, immutable=False)


_TRACE_STATE = st.lists(
    st.tuples(st.from_regex(r"[a-z][a-z0-9_\-*/]{0,8}", fullmatch=True),
              st.from_regex(r"[a-zA-Z0-9!#-+.-<>-~]{1,8}", fullmatch=True)),
    max_size=3,
).map(lambda pairs: TraceState(list(dict(pairs).items())))  # fmt: skip


@st.composite
def contexts(draw: st.DrawFn) -> SpanContext:
    return SpanContext(
        trace_id=draw(st.integers(0, 2**128 - 1)),
        span_id=draw(st.integers(0, 2**64 - 1)),
        is_remote=draw(st.booleans()),
        trace_flags=draw(st.sampled_from([0, 1])),
        trace_state=draw(_TRACE_STATE),
    )


_TIME = st.none() | st.integers(0, 2**64 - 1) | st.just(0)
_EVENT = st.builds(Event, st.text(max_size=10), attributes(), st.integers(0, 2**64 - 1))
_LINK = st.builds(Link, contexts(), attributes())
_STATUS = st.builds(Status, st.sampled_from(list(StatusCode)), st.none() | st.text(max_size=10))

_RESOURCES = [
    Resource({"service.name": "api", "process.pid": 42}),
    Resource({"service.name": "api", "process.pid": 42}),  # equal: grouped with the first
    Resource({"service.name": "worker", "tags": ("a", "b"), "ratio": 0.5}, "https://schema/1"),
    Resource({}),
]
_SCOPES = [
    None,
    InstrumentationScope("opentelemetry.instrumentation.asgi", "0.66b1"),
    InstrumentationScope("opentelemetry.instrumentation.asgi", "0.66b1"),
    InstrumentationScope("lib", None, "https://schema/2", {"scope.attr": 1}),
    InstrumentationScope(""),
]


def _bounded(items: list[Any], limit: int | None) -> BoundedList:
    bounded = BoundedList(limit)
    bounded.extend(items)
    return bounded


@st.composite
def spans(draw: st.DrawFn) -> ReadableSpan:
    fields: dict[str, Any] = {
        "name": draw(st.text(max_size=20)),
        "context": draw(contexts()),
        "parent": draw(st.none() | contexts()),
        "resource": draw(st.sampled_from(_RESOURCES)),
        "attributes": draw(attributes()),
        "kind": draw(st.sampled_from(list(SpanKind))),
        "status": draw(_STATUS),
        "start_time": draw(_TIME),
        "end_time": draw(_TIME),
        "instrumentation_scope": draw(st.sampled_from(_SCOPES)),
    }
    events = draw(st.lists(_EVENT, max_size=3))
    links = draw(st.lists(_LINK, max_size=3))
    if draw(st.booleans()):  # the redacting exporter's spans: dropped counts of their own
        counts = draw(st.tuples(*[st.integers(0, 2**32 - 1)] * 3))
        return _RedactedSpan(counts, events=events, links=links, **fields)
    limits = draw(st.tuples(st.none() | st.integers(0, 3), st.none() | st.integers(0, 3)))
    return ReadableSpan(
        events=_bounded(events, limits[0]), links=_bounded(links, limits[1]), **fields
    )


# --- the properties ---------------------------------------------------------------


def _assert_identical(batch: list[ReadableSpan]) -> None:
    stock = encode_spans(batch)
    ours = encode_spans_request(batch)
    assert ours == stock.SerializeToString()
    decoded = ExportTraceServiceRequest.FromString(ours)
    assert decoded == stock
    encoded = [s for rs in decoded.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(s.span_id for s in encoded) == sorted(
        s.context.span_id.to_bytes(8, "big") for s in batch
    )


@given(st.lists(spans(), max_size=8))
def test_generated_batches_encode_to_the_stock_bytes(batch: list[ReadableSpan]) -> None:
    """Every field, attribute kind, grouping by resource and scope: the same bytes."""
    _assert_identical(batch)


@given(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=40), st.data())
def test_the_caches_keep_every_value_apart(keys: list[str], data: st.DataObject) -> None:
    """Repeated keys with values of every kind (True, 1, "1", 1.0): none stands in for another."""
    values = st.sampled_from([True, False, 1, 0, "1", "True", 1.0, 0.0, "", (1,), (True,)])
    batch = [
        ReadableSpan("s", SpanContext(1, n + 1, False), attributes={k: data.draw(values)})
        for n, k in enumerate(keys)
    ]
    _assert_identical(batch)
    _assert_identical(batch)  # the second time from the caches


def test_spans_of_the_sdk_encode_to_the_stock_bytes() -> None:
    """Spans the SDK itself recorded (its own span class, limits, events and links)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=_RESOURCES[2])
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t", "1.0", schema_url="https://schema/3")
    parent = tracer.start_span("parent", kind=SpanKind.SERVER)
    child = tracer.start_span(
        "child",
        context=set_span_in_context(parent),
        attributes={"n": -5, "f": math.nan, "seq": ["a", "b"], "flags": (True, False)},
        links=[Link(parent.get_span_context(), {"why": "batch"})],
    )
    child.add_event("retry", {"attempt": 2})
    child.set_status(Status(StatusCode.ERROR, "boom"))
    child.end()
    parent.end()
    batch = list(memory.get_finished_spans())
    assert len(batch) == 2
    _assert_identical(batch)
