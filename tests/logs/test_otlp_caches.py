"""The direct OTLP encoder's caches never change its bytes.

``encode_logs_request`` caches encoded keys, short ``key=value`` pairs, bodies,
severities and trace/span id fields; each cache is emptied at 4096 entries.
Whatever passes through them (eviction, text at the cache's length bound,
non-string keys, equal-hashing ``True``/``1``/``1.0``, equal resources), the
request must stay byte for byte the stock encoder's.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import TraceFlags

from otel_distro.exporters import _otlp_logs as _otlp
from otel_distro.exporters._otlp_logs import encode_logs_request

LIMIT = _otlp._CACHE_LIMIT
TEXT = _otlp._CACHED_TEXT
SCOPE = InstrumentationScope("otel_distro.logging")
RESOURCE = Resource({"service.name": "svc"})


def caches() -> dict[str, dict[Any, Any]]:
    """The encoder's module-wide caches (every module-level dict of ``_otlp``)."""
    return {
        name: value
        for name, value in vars(_otlp).items()
        if type(value) is dict and name.startswith("_") and not name.startswith("__")
    }


def assert_bounded() -> None:
    sizes = {name: len(cache) for name, cache in caches().items()}
    assert all(size <= LIMIT for size in sizes.values()), sizes


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    """Each test starts with empty caches."""
    assert {"_keys", "_bodies", "_severities", "_trace_ids", "_span_ids"} <= caches().keys()
    for cache in caches().values():
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def quiet_encoder_errors() -> Iterator[None]:
    """Both encoders log each skipped attribute; the tests only compare bytes."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def record(
    attributes: dict[Any, Any] | None = None,
    body: Any = "event",
    trace_id: int = 0,
    span_id: int = 0,
    severity: tuple[SeverityNumber | None, str | None] = (SeverityNumber.INFO, "INFO"),
    resource: Resource = RESOURCE,
    scope: InstrumentationScope | None = SCOPE,
) -> ReadableLogRecord:
    log_record = LogRecord(
        timestamp=1_700_000_000_000_000_000,
        observed_timestamp=1_700_000_000_000_000_001,
        severity_number=severity[0],
        severity_text=severity[1],
        body=body,
        attributes=attributes or {},
    )
    log_record.trace_id = trace_id
    log_record.span_id = span_id
    log_record.trace_flags = TraceFlags(1 if trace_id else 0)
    return ReadableLogRecord(log_record=log_record, resource=resource, instrumentation_scope=scope)


def stock(batch: list[ReadableLogRecord]) -> bytes:
    return encode_logs(batch).SerializeToString()


def assert_stock(batch: list[ReadableLogRecord]) -> None:
    assert encode_logs_request(batch) == stock(batch)


def decoded_attributes(data: bytes) -> list[list[tuple[str, str]]]:
    request = ExportLogsServiceRequest()
    request.ParseFromString(data)
    return [
        [(kv.key, kv.value.WhichOneof("value") or "") for kv in log.attributes]
        for rl in request.resource_logs
        for sl in rl.scope_logs
        for log in sl.log_records
    ]


# --- eviction -------------------------------------------------------------------


def test_more_distinct_keys_than_the_cache_holds() -> None:
    """Keys of numbers (the key cache) and of strings (the pair cache) past 4096."""
    count = LIMIT + 500
    for start in range(0, count, 250):
        batch = [
            record({f"key.{i}": i, f"float.{i}": i / 3, f"text.{i}": f"v{i}"})
            for i in range(start, start + 250)
        ]
        assert_stock(batch)
    assert_bounded()
    # the same keys again after eviction: encoded (from the cache or anew) identically
    assert_stock([record({f"key.{i}": i, f"text.{i}": f"v{i}"}) for i in range(0, count, 7)])


def test_more_distinct_string_values_than_the_cache_holds() -> None:
    batch = [record({"user.name": f"user-{i}", "route": "/a"}) for i in range(LIMIT * 2 + 3)]
    assert_stock(batch)
    assert_stock(batch[::-1])
    assert_bounded()


def test_more_distinct_bodies_than_the_cache_holds() -> None:
    batch = [record(body=f"event-{i}") for i in range(LIMIT + 100)]
    assert_stock(batch)
    assert_stock(batch[:50])
    assert_bounded()


def test_more_distinct_trace_ids_than_the_cache_holds() -> None:
    batch = [record(trace_id=(i + 1) * 0x1000000000001, span_id=i + 1) for i in range(LIMIT + 100)]
    assert_stock(batch)
    assert_stock(batch[-10:] + batch[:10])
    assert_bounded()


def test_more_distinct_severity_texts_than_the_cache_holds() -> None:
    """Custom level names (severity text) are cached too: output equal, cache bounded."""
    batch = [record(severity=(SeverityNumber.INFO, f"LEVEL{i}")) for i in range(LIMIT + 100)]
    assert_stock(batch)
    assert_bounded()


def test_cached_entries_are_not_shared_between_records_and_resources() -> None:
    """The same ``key=value`` as a log attribute and as a resource attribute (other tag)."""
    resource = Resource({"region": "eu", "service.name": "svc"})
    batch = [record({"region": "eu"}, resource=resource), record({"region": "eu"})]
    assert_stock(batch)
    assert_stock(batch[::-1])


# --- text at the cached length bound ----------------------------------------------


@pytest.mark.parametrize("size", [TEXT - 1, TEXT, TEXT + 1, 1000])
def test_values_and_bodies_around_the_cached_length(size: int) -> None:
    value = "x" * size
    unicode_value = "\u00e9" * size  # longer in bytes than in characters
    for _ in range(2):  # the second pass reads whatever the first one cached
        assert_stock([record({"v": value, "u": unicode_value}, body=value)])
        assert_stock([record({"v": unicode_value}, body=unicode_value)])
        assert_stock([record({"k" * size: size})])


def test_long_pair_lengths_need_two_byte_varints() -> None:
    """Pairs of 127-129 bytes: the length prefix changes size at 128."""
    for size in range(118, 132):
        assert_stock([record({"k": "v" * size, "n": 1}, body="b" * size)])


# --- keys that are not strings ------------------------------------------------------


@pytest.mark.parametrize("key", [1, 2.5, ("t",), True, None], ids=repr)
def test_non_string_keys_encode_like_stock(key: Any) -> None:
    batch = [record({key: "v", "ok": 1, "ok2": "w"})]
    assert_stock(batch)
    assert_stock(batch)


@pytest.mark.parametrize("key", [0, False], ids=repr)
def test_falsy_non_string_keys_are_skipped_like_stock(key: Any) -> None:
    """The stock encoder rejects an int/bool key (``KeyValue(key=0)`` raises) and skips it.

    ``_key_value`` only writes the key when it is truthy, so ``0`` and ``False`` are
    never ``.encode()``d and the attribute goes out with an empty key instead.
    """
    batch = [record({key: "v", "ok": 1})]
    assert decoded_attributes(stock(batch)) == [[("ok", "int_value")]]
    assert_stock(batch)


def test_bytes_keys_are_encoded_like_stock() -> None:
    """Protobuf takes UTF-8 ``bytes`` for a string field: the stock encoder keeps the key."""
    batch = [record({b"k": "v", "ok": 1})]
    assert decoded_attributes(stock(batch)) == [[("k", "string_value"), ("ok", "int_value")]]
    assert_stock(batch)


def test_string_subclass_keys_and_values() -> None:
    class Text(str):
        pass

    assert_stock([record({Text("k"): Text("v"), "k": "v", Text("n"): 1})])
    assert_stock([record({Text("k"): "v"}, body=Text("body"))])


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_int_enum_values_encode_like_stock() -> None:
    assert_stock([record({"level": Level.HIGH, "levels": [Level.HIGH]})])


def test_str_enum_values_encode_their_value_like_stock() -> None:
    """A ``(str, Enum)`` member is encoded by protobuf as its string value (``"red"``).

    ``_any_value`` encodes ``str(value)`` for ``str`` subclasses, which for such an
    enum is ``"Color.RED"``.
    """
    batch = [record({"color": Color.RED, "colors": [Color.RED]}, body=Color.RED)]
    request = ExportLogsServiceRequest()
    request.ParseFromString(stock(batch))
    log = request.resource_logs[0].scope_logs[0].log_records[0]
    assert log.body.string_value == "red"
    assert_stock(batch)


# --- integers ---------------------------------------------------------------------

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@pytest.mark.parametrize(
    "value",
    [0, 1, -1, 127, 128, -128, 2**31, -(2**31) - 1, INT64_MAX, INT64_MIN],
)
def test_int_edges_encode_like_stock(value: int) -> None:
    for _ in range(2):  # cold, then with the key cached (the inlined path)
        assert_stock([record({"n": value, "s": "x"})])


@pytest.mark.parametrize("value", [INT64_MAX + 1, INT64_MIN - 1, 2**64, -(2**100)])
def test_out_of_range_ints_are_skipped_like_stock(value: int) -> None:
    warm = [record({"n": 5})]
    assert_stock(warm)  # "n" is now a cached key: the inlined int path is taken
    batch = [record({"n": value, "after": 1})]
    assert decoded_attributes(stock(batch)) == [[("after", "int_value")]]
    assert_stock(batch)


# --- bool, int and float with equal hashes -------------------------------------------


def test_true_one_and_one_point_zero_encode_differently() -> None:
    """``True == 1 == 1.0`` share a hash: no cache may hand one the other's encoding."""
    batch = [
        record({"flag": True}),
        record({"flag": 1}),
        record({"flag": 1.0}),
        record({"flag": False}),
        record({"flag": 0}),
        record({"flag": 0.0}),
    ]
    for order in (batch, batch[::-1], batch[2:] + batch[:2]):
        assert_stock(order)
    kinds = decoded_attributes(encode_logs_request(batch))
    assert kinds == [
        [("flag", "bool_value")],
        [("flag", "int_value")],
        [("flag", "double_value")],
        [("flag", "bool_value")],
        [("flag", "int_value")],
        [("flag", "double_value")],
    ]


def test_equal_hash_values_as_strings_and_bodies() -> None:
    batch = [
        record({"v": "1"}, body="1"),
        record({"v": 1}, body=1),
        record({"v": True}, body=True),
        record({"v": 1.0}, body=1.0),
    ]
    assert_stock(batch)
    assert_stock(batch[::-1])


# --- resources and scopes ----------------------------------------------------------


def test_equal_but_distinct_resources_group_like_stock() -> None:
    """Equal resources that are different objects share one ``ResourceLogs``, as in stock."""
    first = Resource({"service.name": "svc", "host.name": "h"})
    second = Resource({"service.name": "svc", "host.name": "h"})
    other = Resource({"service.name": "other"})
    assert first is not second and first == second
    scope_a = InstrumentationScope("a")
    scope_a_again = InstrumentationScope("a")
    batch = [
        record(body="1", resource=first, scope=scope_a),
        record(body="2", resource=other, scope=scope_a),
        record(body="3", resource=second, scope=scope_a_again),
        record(body="4", resource=second, scope=None),
        record(body="5", resource=first, scope=InstrumentationScope("b", "1.0")),
    ]
    data = encode_logs_request(batch)
    assert data == stock(batch)
    request = ExportLogsServiceRequest()
    request.ParseFromString(data)
    assert len(request.resource_logs) == 2
    bodies = [
        [log.body.string_value for sl in rl.scope_logs for log in sl.log_records]
        for rl in request.resource_logs
    ]
    assert bodies == [["1", "3", "4", "5"], ["2"]]


def test_resources_with_schema_urls_group_like_stock() -> None:
    batch = [
        record(resource=Resource({"a": 1}, "https://s/1")),
        record(resource=Resource({"a": 1}, "https://s/2")),
        record(resource=Resource({"a": 1}, "https://s/1")),
        record(resource=Resource({"a": True})),
        record(resource=Resource({"a": 1})),
    ]
    assert_stock(batch)


@pytest.mark.parametrize(
    "value", [0, 1, 127, 128, 300, 16383, 16384, 2**21 - 1, 2**21, 2**35, 2**63 - 1, 2**64 - 1]
)
def test_varints_match_protobuf(value: int) -> None:
    """Every varint width, across each fast-path boundary, is written as protobuf writes it."""
    from google.protobuf.internal.encoder import _VarintBytes

    assert _otlp._varint(value) == _VarintBytes(value)
