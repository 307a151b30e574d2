"""Awkward values never crash logging and reach both outputs in one cleaned form."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_distro.logging import get_logger
from otel_distro.logging._values import clean, exception_attributes
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


LIMIT = 1000


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


def _json_safe(value: Any) -> bool:
    json.dumps(value, allow_nan=False)
    return True


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary()
    | st.datetimes()
    | st.uuids()
    | st.builds(object)
    | st.builds(Unprintable),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(st.text(), st.integers()), inner, max_size=4)
        | st.tuples(inner, inner)
        | st.frozensets(st.integers(), max_size=3)
    ),
    max_leaves=20,
)


@given(values)
def test_clean_output_is_strict_json(value: Any) -> None:
    """Any value cleans into strict JSON (no NaN, no bytes, no objects)."""
    assert _json_safe(clean(value, LIMIT))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(values)
def test_logging_any_value_never_raises(log_setup: Logs, value: Any) -> None:
    """Logging any value produces one record and one parseable line."""
    before = len(log_setup.records())
    get_logger("app").info("odd", value=value)
    assert len(log_setup.records()) == before + 1
    assert "event" in log_setup.json_lines()[-1]


def test_cycles_are_marked_not_followed() -> None:
    """A self-referencing list becomes a finite value with a cycle marker."""
    loop: list[Any] = [1]
    loop.append(loop)
    assert clean(loop, LIMIT) == [1, "<cycle>"]


def test_shared_references_are_not_cycles() -> None:
    """The same object twice (not nested in itself) is kept twice."""
    shared = {"a": 1}
    assert clean([shared, shared], LIMIT) == [{"a": 1}, {"a": 1}]


def test_deep_nesting_is_cut() -> None:
    """Very deep structures are cut with a marker instead of recursing forever."""
    deep: Any = "leaf"
    for _ in range(100):
        deep = [deep]
    assert "<too deep>" in json.dumps(clean(deep, LIMIT))


def test_huge_strings_are_truncated() -> None:
    """Strings longer than the scan limit are truncated (and say so)."""
    cleaned = clean("x" * 5000, LIMIT)
    assert len(cleaned) < 1100 and cleaned.endswith("[truncated]")


def test_bytes_become_text() -> None:
    """Bytes are decoded, undecodable bytes escaped."""
    assert clean(b"ok\xff", LIMIT) == "ok\\xff"


def test_datetimes_become_iso_strings() -> None:
    """datetime values become ISO-8601 strings."""
    assert clean(dt.datetime(2024, 1, 2, 3, 4, 5), LIMIT) == "2024-01-02T03:04:05"


def test_big_integers_become_strings() -> None:
    """Integers outside int64 (not encodable in OTLP) become strings."""
    assert clean(2**80, LIMIT) == str(2**80)


def test_unprintable_objects_get_a_placeholder() -> None:
    """An object whose __str__ raises becomes a placeholder naming its type."""
    assert clean(Unprintable(), LIMIT) == "<unprintable Unprintable>"


def test_uuid_becomes_its_string() -> None:
    """Objects with a meaningful str() (UUID) keep it."""
    value = uuid.UUID(int=1)
    assert clean(value, LIMIT) == str(value)


def test_exc_info_false_gives_no_attributes() -> None:
    """exc_info=False or None adds nothing."""
    assert exception_attributes(False, LIMIT) is None


def test_exc_info_accepts_an_exception_instance() -> None:
    """An exception instance works like a sys.exc_info() tuple."""
    attrs = exception_attributes(ValueError("v"), LIMIT)
    assert attrs is not None and attrs["exception.type"] == "ValueError"


def test_exception_type_is_qualified_outside_builtins() -> None:
    """Non-builtin exception types carry their module."""
    attrs = exception_attributes(json.JSONDecodeError("m", "d", 0), LIMIT)
    assert attrs is not None and attrs["exception.type"] == "json.decoder.JSONDecodeError"


def test_lone_surrogates_are_escaped() -> None:
    """Strings with lone surrogates (undecodable file names) become valid UTF-8."""
    cleaned = clean("name-\udcff", LIMIT)
    assert cleaned.encode("utf-8") and cleaned.startswith("name-")


def test_surrogate_event_is_exported(log_setup: Logs) -> None:
    """An event name with a lone surrogate still gives an exportable record."""
    get_logger("app").info("file \udcff missing", path="/tmp/\udcfe")
    record = log_setup.records()[0].log_record
    assert str(record.body).encode("utf-8") and str((record.attributes or {})["path"]).encode()
