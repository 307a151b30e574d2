"""The optimised log path end to end: ``configure()`` + ``get_logger`` on every record route.

Also the pieces it leans on: the reused JSON encoder (``render_clean_json``),
request-context snapshots that are the request state's dict itself, and the
one-entry caches of ``hex_ids``/``_iso`` under concurrent logging threads.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import baggage, context, trace
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordLimits,
    LogRecordProcessor,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanContext, TraceFlags

from otel_distro import logging as logs
from otel_distro.context import begin_request, current_request, set_tenant
from otel_distro.logging import get_logger
from otel_distro.logging._correlate import hex_ids, request_snapshot
from otel_distro.logging._pipeline import _iso
from otel_distro.logging._render import render_clean_json
from otel_distro.processors.baggage import BaggageAttributesLogProcessor
from otel_distro.processors.redaction import RedactingLogRecordProcessor
from otel_distro.redaction import REDACTED
from tests.support.logs import Logs, make_settings

pytestmark = pytest.mark.usefixtures("clean_logging_state")


ROUTES = ["batches", "processors", "emit"]


class Boom(LogRecordProcessor):
    """A processor that fails on every record."""

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        raise RuntimeError("processor failed")

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _provider(route: str, exporter: InMemoryLogRecordExporter, *first: Any) -> LoggerProvider:
    """A provider whose records take *route* (processors in *first* come before the sink)."""
    kwargs: dict[str, Any] = {}
    if route == "emit":
        kwargs["log_record_limits"] = LogRecordLimits(max_attribute_length=100_000)
    provider = LoggerProvider(
        resource=Resource({"service.name": "svc"}), shutdown_on_exit=False, **kwargs
    )
    provider.add_log_record_processor(BaggageAttributesLogProcessor(("tenant.id", "user.id")))
    provider.add_log_record_processor(RedactingLogRecordProcessor())
    for processor in first:
        provider.add_log_record_processor(processor)
    if route == "batches":
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter, max_queue_size=16384))
    else:
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider


@pytest.fixture
def configure_route(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Logs]]:
    """``configure_route(route, *processors, **env)``: ``logs.configure`` on such a provider."""
    for name in ("OTEL_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    providers: list[LoggerProvider] = []

    def setup(route: str, *first: Any, **env: str) -> Logs:
        exporter = InMemoryLogRecordExporter()
        provider = _provider(route, exporter, *first)
        providers.append(provider)
        logs.configure(make_settings(**env), provider)
        writer = logs._emitter.writer
        assert writer is not None and writer.route == route
        return Logs(provider, exporter, capsys)

    yield setup
    logs.flush()
    for provider in providers:
        provider.shutdown()


def _tracer() -> trace.Tracer:
    return TracerProvider().get_tracer("t")


def _ids(span: trace.Span) -> tuple[str, str]:
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


# --- each route, end to end -----------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_records_and_lines_on_every_route(configure_route: Callable[..., Logs], route: str) -> None:
    """Body, typed attributes, logger name, request context and ids reach both outputs."""
    setup = configure_route(route)
    token = context.attach(baggage.set_baggage("tenant.id", "acme"))
    try:
        with _tracer().start_as_current_span("work") as span:
            get_logger("app.sites").warning(
                "site_created", site_id=7, name="caf\u00e9", ratio=0.5, ok=True, gone=None
            )
    finally:
        context.detach(token)
    (record,) = setup.records()
    log_record = record.log_record
    assert log_record.body == "site_created"
    assert log_record.severity_text == "WARN"
    assert dict(log_record.attributes or {}) == {
        "site_id": 7,
        "name": "caf\u00e9",
        "ratio": 0.5,
        "ok": True,
        "gone": None,
        "tenant.id": "acme",
        "logger.name": "app.sites",
    }
    ctx = span.get_span_context()
    assert (log_record.trace_id, log_record.span_id) == (ctx.trace_id, ctx.span_id)
    assert log_record.trace_flags == ctx.trace_flags
    scope = record.instrumentation_scope
    assert scope is not None and scope.name == logs.SCOPE
    (line,) = setup.json_lines()
    assert (line["event"], line["level"], line["logger"]) == (
        "site_created",
        "warning",
        "app.sites",
    )
    assert (line["trace_id"], line["span_id"]) == _ids(span)
    assert (line["site_id"], line["name"], line["tenant.id"]) == (7, "caf\u00e9", "acme")


@pytest.mark.parametrize("route", ROUTES)
def test_values_needing_the_sdk_arrive_on_every_route(
    configure_route: Callable[..., Logs], route: str
) -> None:
    """Lists and dicts (the stock fallback) keep their content and the span's ids."""
    setup = configure_route(route)
    with _tracer().start_as_current_span("work") as span:
        get_logger("app").info("batch", ids=[1, 2], names=("a", "b"), scalar="x")
    (record,) = setup.records()
    attrs = dict(record.log_record.attributes or {})
    assert (attrs["ids"], attrs["names"], attrs["scalar"]) == ((1, 2), ("a", "b"), "x")
    ctx = span.get_span_context()
    assert (record.log_record.trace_id, record.log_record.span_id) == (ctx.trace_id, ctx.span_id)
    (line,) = setup.json_lines()
    assert (line["ids"], line["names"]) == ([1, 2], ["a", "b"])


@pytest.mark.parametrize("route", ROUTES)
def test_a_record_outside_a_span_has_no_ids(
    configure_route: Callable[..., Logs], route: str
) -> None:
    setup = configure_route(route)
    get_logger("app").info("outside", n=1)
    (record,) = setup.records()
    assert (record.log_record.trace_id, record.log_record.span_id) == (0, 0)
    (line,) = setup.json_lines()
    assert "trace_id" not in line and "span_id" not in line


@pytest.mark.parametrize("route", ROUTES)
def test_secrets_are_redacted_on_every_route(
    configure_route: Callable[..., Logs], route: str
) -> None:
    """Repeated clean events may skip the scan; a secret among them is still replaced."""
    setup = configure_route(route)
    log = get_logger("app")
    for _ in range(3):
        log.info("login", note="hello", user_name="ann")
    log.info("login", note="password=hunter2", user_name="ann")
    log.info("login", password="hunter2")
    log.info("login", password="hunter2")
    log.info("Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789")
    records = setup.records()
    assert [
        dict(r.log_record.attributes or {}).get("otel_distro.redacted") for r in records[:3]
    ] == [
        None,
        None,
        None,
    ]
    assert dict(records[3].log_record.attributes or {})["note"] == f"password={REDACTED}"
    assert dict(records[4].log_record.attributes or {})["password"] == REDACTED
    assert dict(records[5].log_record.attributes or {})["password"] == REDACTED
    assert "abcdefghijklmnopqrstuvwxyz" not in str(records[6].log_record.body)
    for record in records[3:]:
        assert "otel_distro.redacted" in dict(record.log_record.attributes or {})
    text = "\n".join(setup.lines())
    assert "hunter2" not in text and "abcdefghijklmnopqrstuvwxyz" not in text


@pytest.mark.parametrize("route", ["processors", "emit"])
@pytest.mark.parametrize("method", ["info", "error"])
def test_a_failing_processor_does_not_cost_the_line(
    configure_route: Callable[..., Logs], route: str, method: str
) -> None:
    """A processor raising in ``on_emit``: the call returns, the line is written, logging goes on.

    (Both on the direct ``processors`` route and through ``Logger.emit``.)
    """
    setup = configure_route(route, Boom())
    log = get_logger("app")
    getattr(log, method)("first", n=1)
    getattr(log, method)("second", n=2)
    lines = setup.json_lines()
    assert [(line["event"], line["n"]) for line in lines] == [("first", 1), ("second", 2)]


@pytest.mark.parametrize("route", ["processors", "emit"])
def test_a_failing_processor_does_not_cost_the_line_of_a_stdlib_record(
    configure_route: Callable[..., Logs], route: str
) -> None:
    import logging

    setup = configure_route(route, Boom())
    logging.getLogger("library").warning("from %s", "stdlib")
    assert [line["event"] for line in setup.json_lines()] == ["from stdlib"]


def test_a_processor_added_after_configure_gets_the_records(
    configure_route: Callable[..., Logs],
) -> None:
    setup = configure_route("batches")
    get_logger("app").info("one")
    logs.flush()  # "one" is emitted before the new processor exists
    late = InMemoryLogRecordExporter()
    setup.provider.add_log_record_processor(SimpleLogRecordProcessor(late))
    get_logger("app").info("two")
    assert [r.log_record.body for r in setup.records()] == ["one", "two"]
    assert [r.log_record.body for r in late.get_finished_logs()] == ["two"]
    writer = logs._emitter.writer
    assert writer is not None and writer.route == "processors"


def test_emit_route_record_logged_outside_a_span_keeps_no_ids(
    configure_route: Callable[..., Logs],
) -> None:
    """A queued event completed by an ERROR's flush inside a span keeps its own (no) span.

    The log worker is held back (its lock taken) so that, deterministically, the
    INFO event logged outside any span is completed by the ERROR call's
    synchronous flush on this thread, inside an unrelated span.  The line has no
    ids; the record must not have that span's ids either.
    """
    setup = configure_route("emit")
    log = get_logger("app")
    with logs._emitter._lock:
        log.info("outside")
        with _tracer().start_as_current_span("later") as span:
            log.error("inside")
    lines = {line["event"]: line for line in setup.json_lines()}
    records = {r.log_record.body: r.log_record for r in setup.records()}
    assert "trace_id" not in lines["outside"]
    assert lines["inside"]["trace_id"] == _ids(span)[0]
    assert records["inside"].trace_id == span.get_span_context().trace_id
    assert (records["outside"].trace_id, records["outside"].span_id) == (0, 0)


# --- render_clean_json ------------------------------------------------------------

json_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text
    | st.sampled_from(['"', "\\", "\x00\x01\x1f\x7f", "\u2028\u2029", "\ud7ff\ue000", "</script>"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(json_text, json_values, max_size=8))
def test_render_clean_json_equals_json_dumps(event: dict[str, Any]) -> None:
    """The reused encoder writes exactly ``json.dumps`` (ASCII escapes, separators, numbers)."""
    rendered = render_clean_json(event)
    assert rendered == json.dumps(event)
    assert json.loads(rendered) == event


def test_render_clean_json_special_values() -> None:
    event = {
        "quote": 'say "hi"',
        "control": "a\nb\tc\x00\x1b",
        "non_ascii": "\u00e9\u4e2d\U0001f600",
        "big": 2**63,
        "neg_big": -(2**100),
        "floats": [0.1, -0.0, 1e300, 5e-324, 1.0],
        "nested": {"list": [[], {}, [{"a": None}]], "bool": [True, False]},
        "": "empty key",
    }
    assert render_clean_json(event) == json.dumps(event)


def test_render_clean_json_is_reentrant_across_threads() -> None:
    """One encoder object shared by every thread: each thread gets its own output."""
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(300):
            event = {"thread": n, "i": i, "items": [n] * (i % 7), "text": "x" * n}
            if render_clean_json(event) != json.dumps(event):
                errors.append(f"{n}/{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# --- request state snapshots ------------------------------------------------------


def _in_fresh_context(body: Callable[[], None]) -> None:
    contextvars.copy_context().run(body)


def test_set_tenant_replaces_the_values_dict() -> None:
    """The dict a snapshot holds never changes; the scope restores the very same dict."""

    def body() -> None:
        state = begin_request(None)
        set_tenant(tenant_id="t1", user_id="u1")
        first = state.values
        snapshot = request_snapshot()
        assert snapshot is first
        scope = set_tenant(tenant_id="t2")
        assert state.values is not first
        assert first == {"tenant.id": "t1", "user.id": "u1"}
        assert state.values == {"tenant.id": "t2", "user.id": "u1"}
        scope.close()
        assert state.values is first
        assert first == {"tenant.id": "t1", "user.id": "u1"}
        with set_tenant(tenant_id="t3"):
            assert state.values["tenant.id"] == "t3"
        assert state.values is first

    _in_fresh_context(body)


def test_snapshot_is_none_without_a_request_or_values() -> None:
    def body() -> None:
        assert request_snapshot() is None
        begin_request(None)
        assert current_request() is not None
        assert request_snapshot() is None

    _in_fresh_context(body)


def test_a_log_captured_before_set_tenant_keeps_the_old_values(
    configure_route: Callable[..., Logs],
) -> None:
    """Completed after a later ``set_tenant`` of the same request, a record keeps its values.

    ``set_tenant`` runs in a copied context (as in a threadpool dependency), so the
    request state is the only carrier of the tenant.  The worker is held back until
    both changes are made.
    """
    setup = configure_route("batches")
    log = get_logger("app")

    def body() -> None:
        state = begin_request(None)
        contextvars.copy_context().run(set_tenant, tenant_id="t1", user_id="u1")
        with logs._emitter._lock:
            log.info("before")
            contextvars.copy_context().run(set_tenant, tenant_id="t2")
            log.info("after")
            scope = set_tenant(tenant_id="t3")
            log.info("scoped")
            scope.close()
            log.info("restored")
        assert state.values == {"tenant.id": "t2", "user.id": "u1"}

    _in_fresh_context(body)
    expected = [
        ("before", "t1", "u1"),
        ("after", "t2", "u1"),
        ("scoped", "t3", "u1"),
        ("restored", "t2", "u1"),
    ]
    lines = setup.json_lines()
    assert [(x["event"], x["tenant.id"], x["user.id"]) for x in lines] == expected
    records = [(r.log_record.body, dict(r.log_record.attributes or {})) for r in setup.records()]
    assert [(body, a["tenant.id"], a["user.id"]) for body, a in records] == expected


# --- concurrent threads: hex_ids and _iso -------------------------------------------

THREADS = 8
PER_THREAD = 500


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as possible, to interleave the caches' reads and writes."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _run_threads(work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(THREADS)

    def run(n: int) -> None:
        barrier.wait()
        work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("route", ["batches", "processors"])
def test_threads_logging_in_their_own_spans_get_their_own_ids(
    configure_route: Callable[..., Logs], fast_switching: None, route: str
) -> None:
    """8 threads, each in its own span, 500 records each: every line and record has its span."""
    setup = configure_route(route)
    tracer = _tracer()
    spans: dict[int, tuple[str, str]] = {}
    log = get_logger("app")

    def work(n: int) -> None:
        with tracer.start_as_current_span(f"thread-{n}") as span:
            spans[n] = _ids(span)
            for i in range(PER_THREAD):
                log.info("tick", thread=n, seq=i)

    _run_threads(work)
    lines, records = _assert_each_thread_has_its_ids(setup, spans)
    stamps = {(line["thread"], line["seq"]): line["timestamp"] for line in lines}
    for record in records:
        attrs = dict(record.log_record.attributes or {})
        assert stamps[(attrs["thread"], attrs["seq"])] == _expected_iso(record.log_record.timestamp)


def test_threads_in_application_chains_get_their_own_ids(
    configure_route: Callable[..., Logs], fast_switching: None
) -> None:
    """An application-owned structlog chain completes events on the calling threads."""
    setup = configure_route("batches")
    structlog.configure(processors=[structlog.processors.JSONRenderer()])
    tracer = _tracer()
    spans: dict[int, tuple[str, str]] = {}

    def work(n: int) -> None:
        log = structlog.get_logger("app")
        with tracer.start_as_current_span(f"thread-{n}") as span:
            spans[n] = _ids(span)
            for i in range(PER_THREAD):
                log.info("tick", thread=n, seq=i)

    _run_threads(work)
    _assert_each_thread_has_its_ids(setup, spans)


def _assert_each_thread_has_its_ids(
    setup: Logs, spans: dict[int, tuple[str, str]]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every line and record of every thread carries that thread's span ids; returns both."""
    lines = setup.json_lines()
    records = setup.records()
    assert len(lines) == len(records) == THREADS * PER_THREAD
    for line in lines:
        assert (line["trace_id"], line["span_id"]) == spans[line["thread"]]
    for record in records:
        attrs = dict(record.log_record.attributes or {})
        ids = format(record.log_record.trace_id, "032x"), format(record.log_record.span_id, "016x")
        assert ids == spans[attrs["thread"]]
    return lines, records


def _expected_iso(ts_ns: int) -> str:
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{rest // 1000:06d}Z"


def test_hex_ids_and_iso_under_concurrent_threads(fast_switching: None) -> None:
    """The one-entry caches never hand one thread another thread's value."""
    errors: list[str] = []

    def work(n: int) -> None:
        span_context = SpanContext(
            (n + 1) << 64 | 0xABC, (n + 1) << 8, False, TraceFlags(TraceFlags.SAMPLED)
        )
        expected = format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
        base = 1_700_000_000_000_000_000 + n * 3_600_000_000_000
        for i in range(2000):
            if hex_ids(span_context) != expected:
                errors.append(f"ids {n}/{i}")
            ts = base + (i % 5) * 1_000_000_000 + i * 1000
            if _iso(ts) != _expected_iso(ts):
                errors.append(f"iso {n}/{i}")

    _run_threads(work)
    assert errors == []


def test_iso_formats_like_datetime() -> None:
    for ts in (0, 1, 999_999_999, 1_000_000_000, 1_700_000_000_123_456_789, 4_102_444_800 * 10**9):
        assert _iso(ts) == _expected_iso(ts)
