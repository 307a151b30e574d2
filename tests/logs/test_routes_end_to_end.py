"""The optimised log path end to end: ``configure()`` + ``get_logger`` on every record route."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry import baggage, context
from opentelemetry.sdk._logs import (
    LogRecordProcessor,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)

from otel_distro import logging as logs
from otel_distro.logging import get_logger
from otel_distro.redaction import REDACTED
from tests.support.logs import Logs, new_tracer, span_ids

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


# --- each route, end to end -----------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_records_and_lines_on_every_route(configure_route: Callable[..., Logs], route: str) -> None:
    """Body, typed attributes, logger name, request context and ids reach both outputs."""
    setup = configure_route(route)
    token = context.attach(baggage.set_baggage("tenant.id", "acme"))
    try:
        with new_tracer().start_as_current_span("work") as span:
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
    assert (line["trace_id"], line["span_id"]) == span_ids(span)
    assert (line["site_id"], line["name"], line["tenant.id"]) == (7, "caf\u00e9", "acme")


@pytest.mark.parametrize("route", ROUTES)
def test_values_needing_the_sdk_arrive_on_every_route(
    configure_route: Callable[..., Logs], route: str
) -> None:
    """Lists and dicts (the stock fallback) keep their content and the span's ids."""
    setup = configure_route(route)
    with new_tracer().start_as_current_span("work") as span:
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
        with new_tracer().start_as_current_span("later") as span:
            log.error("inside")
    lines = {line["event"]: line for line in setup.json_lines()}
    records = {r.log_record.body: r.log_record for r in setup.records()}
    assert "trace_id" not in lines["outside"]
    assert lines["inside"]["trace_id"] == span_ids(span)[0]
    assert records["inside"].trace_id == span.get_span_context().trace_id
    assert (records["outside"].trace_id, records["outside"].span_id) == (0, 0)
