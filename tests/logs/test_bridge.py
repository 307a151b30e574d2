"""The structlog path: one OTel record and one rendered line per call, correlated."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry import baggage, context
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk.trace import TracerProvider

from otel_distro import logging as logs
from otel_distro.logging import get_logger
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


def test_one_call_is_one_record(log_setup: Logs) -> None:
    """A log call produces exactly one OTel record whose body is the event name."""
    get_logger("app.sites").info("site_created", site_id=7)
    records = log_setup.records()
    assert [r.log_record.body for r in records] == ["site_created"]


def test_attributes_keep_their_types(log_setup: Logs) -> None:
    """Key-values become typed attributes (ints stay ints, floats floats, bools bools)."""
    get_logger("app").info("e", site_id=7, ratio=0.5, ok=True, name="acme")
    attrs = log_setup.attributes()
    assert (attrs["site_id"], attrs["ratio"], attrs["ok"], attrs["name"]) == (7, 0.5, True, "acme")


def test_severity_follows_the_method(log_setup: Logs) -> None:
    """warning() gives WARN severity, error() ERROR."""
    log = get_logger("app")
    log.warning("w")
    log.error("e")
    severities = [r.log_record.severity_number for r in log_setup.records()]
    assert severities == [SeverityNumber.WARN, SeverityNumber.ERROR]


def test_records_use_the_distro_scope(log_setup: Logs) -> None:
    """Records are emitted under the ``otel_distro.logging`` scope (redaction already done)."""
    get_logger("app").info("e")
    scope = log_setup.records()[0].instrumentation_scope
    assert scope is not None and scope.name == "otel_distro.logging"


def test_logger_name_is_an_attribute(log_setup: Logs) -> None:
    """The structlog logger name travels as ``logger.name``."""
    get_logger("app.sites").info("e")
    assert log_setup.attributes()["logger.name"] == "app.sites"


def test_record_carries_the_current_span(log_setup: Logs) -> None:
    """Inside a span the record has that span's trace and span id."""
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        get_logger("app").info("inside")
    record = log_setup.records()[0].log_record
    ctx = span.get_span_context()
    assert (record.trace_id, record.span_id) == (ctx.trace_id, ctx.span_id)


def test_json_line_has_trace_and_span_ids(log_setup: Logs) -> None:
    """The rendered JSON line carries ``trace_id``/``span_id`` of the current span."""
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        get_logger("app").info("inside")
    line = log_setup.json_lines()[-1]
    ctx = span.get_span_context()
    assert (line["trace_id"], line["span_id"]) == (
        format(ctx.trace_id, "032x"),
        format(ctx.span_id, "016x"),
    )


def test_json_line_has_level_timestamp_logger_event(log_setup: Logs) -> None:
    """A JSON line names level, logger and event and has an ISO-8601 UTC timestamp."""
    get_logger("app.sites").info("site_created", site_id=7)
    line = log_setup.json_lines()[-1]
    assert (line["level"], line["logger"], line["event"], line["site_id"]) == (
        "info",
        "app.sites",
        "site_created",
        7,
    )
    assert line["timestamp"].endswith("Z")


def test_tenant_and_user_from_baggage(log_setup: Logs) -> None:
    """tenant.id and user.id from baggage are on both the line and the record."""
    ctx = baggage.set_baggage("tenant.id", "t-1", baggage.set_baggage("user.id", "u-2"))
    token = context.attach(ctx)
    try:
        get_logger("app").info("e")
    finally:
        context.detach(token)
    line, attrs = log_setup.json_lines()[-1], log_setup.attributes()
    assert (line["tenant.id"], line["user.id"]) == ("t-1", "u-2")
    assert (attrs["tenant.id"], attrs["user.id"]) == ("t-1", "u-2")


def test_baggage_outside_the_allowlist_is_ignored(log_setup: Logs) -> None:
    """Baggage keys not in OTEL_DISTRO_BAGGAGE_ATTRIBUTES never reach logs."""
    token = context.attach(baggage.set_baggage("session.note", "private"))
    try:
        get_logger("app").info("e")
    finally:
        context.detach(token)
    assert "session.note" not in log_setup.attributes()


def test_exc_info_gives_exception_attributes(log_setup: Logs) -> None:
    """exc_info=True records exception.type, exception.message and exception.stacktrace."""
    try:
        raise LookupError("users")  # not KeyError: its message (the looked-up key) is redacted
    except LookupError:
        get_logger("app").error("database_error", table="users", exc_info=True)
    attrs = log_setup.attributes()
    assert attrs["exception.type"] == "LookupError"
    assert attrs["exception.message"] == "users"
    assert "Traceback" in attrs["exception.stacktrace"]


def test_logger_exception_method_records_the_exception(log_setup: Logs) -> None:
    """log.exception() inside an except block behaves like error(exc_info=True)."""
    try:
        raise ValueError("bad")
    except ValueError:
        get_logger("app").exception("failed")
    record = log_setup.records()[0].log_record
    assert record.severity_number is SeverityNumber.ERROR
    assert (record.attributes or {})["exception.type"] == "ValueError"


def test_exception_text_is_redacted(log_setup: Logs) -> None:
    """A secret in the exception message is redacted on the record and the line."""
    pytest.importorskip("otel_distro.redaction")
    try:
        raise RuntimeError("login failed: password=hunter2 for bob")
    except RuntimeError:
        get_logger("app").error("login_error", exc_info=True)
    attrs, line = log_setup.attributes(), log_setup.lines()[-1]
    assert "hunter2" not in attrs["exception.message"]
    assert "hunter2" not in attrs["exception.stacktrace"]
    assert "hunter2" not in line


def test_sensitive_keys_are_redacted_once_for_both_outputs(log_setup: Logs) -> None:
    """A value under a sensitive key is redacted in the record and in the line."""
    pytest.importorskip("otel_distro.redaction")
    get_logger("app").info("login", password="hunter2", user_name="bob")
    attrs, line = log_setup.attributes(), log_setup.json_lines()[-1]
    assert attrs["password"] != "hunter2" and line["password"] != "hunter2"
    assert attrs["password"] == line["password"]


def test_filtered_levels_emit_nothing(log_setup: Logs) -> None:
    """debug() below LOG_LEVEL=INFO produces neither a record nor a line."""
    get_logger("app").debug("noise")
    assert log_setup.records() == [] and log_setup.lines() == []


def test_log_level_setting_lowers_the_threshold(setup_logs: Callable[..., Logs]) -> None:
    """LOG_LEVEL=DEBUG lets debug() through."""
    result = setup_logs(LOG_LEVEL="DEBUG")
    get_logger("app").debug("detail")
    assert [r.log_record.body for r in result.records()] == ["detail"]


def test_development_renders_for_humans(setup_logs: Callable[..., Logs]) -> None:
    """ENVIRONMENT=development renders a console line, not JSON, and still emits the record."""
    result = setup_logs(ENVIRONMENT="development")
    get_logger("app").info("site_created", site_id=7)
    try:
        raise ValueError("bad")
    except ValueError:
        get_logger("app").exception("failed")
    lines = result.lines()
    assert "site_created" in lines[0] and "site_id=7" in lines[0] and not lines[0].startswith("{")
    assert any("ValueError: bad" in line for line in lines)
    records = [r.log_record for r in result.records()]
    assert [r.body for r in records] == ["site_created", "failed"]
    assert (records[1].attributes or {})["exception.type"] == "ValueError"


def test_log_format_override(setup_logs: Callable[..., Logs]) -> None:
    """OTEL_DISTRO_LOG_FORMAT=json renders JSON even in development."""
    result = setup_logs(ENVIRONMENT="development", OTEL_DISTRO_LOG_FORMAT="json")
    get_logger("app").info("e")
    assert result.json_lines()[-1]["event"] == "e"


def test_log_to_file_writes_the_same_line(setup_logs: Callable[..., Logs], tmp_path: Path) -> None:
    """LOG_TO_FILE writes the rendered line to LOG_DIR/LOG_FILE_NAME as well."""
    result = setup_logs(LOG_TO_FILE="true", LOG_DIR=str(tmp_path), LOG_FILE_NAME="x.log")
    get_logger("app").info("to_file")
    logs.reset()
    assert (tmp_path / "x.log").read_text().splitlines() == result.lines()


def test_log_file_rotates(setup_logs: Callable[..., Logs], tmp_path: Path) -> None:
    """The log file rotates at LOG_FILE_MAX_BYTES, keeping LOG_FILE_BACKUP_COUNT files."""
    setup_logs(
        LOG_TO_FILE="true",
        LOG_DIR=str(tmp_path),
        LOG_FILE_MAX_BYTES="300",
        LOG_FILE_BACKUP_COUNT="2",
    )
    for n in range(20):
        get_logger("app").info("line", n=n)
    logs.reset()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "app.log.1", "app.log.2"]


def test_unwritable_log_dir_reports_once_and_logs_to_stdout(
    setup_logs: Callable[..., Logs], tmp_path: Path
) -> None:
    """An unwritable LOG_DIR gives one clear message; logging continues on stdout."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = setup_logs(LOG_TO_FILE="true", LOG_DIR=str(blocker / "sub"))
    get_logger("app").info("still_here")
    get_logger("app").info("still_here")
    logs.flush()
    err = result.capsys.readouterr()
    result._out.extend(err.out.splitlines())
    assert err.err.count("LOG_DIR=") == 1
    assert [line["event"] for line in result.json_lines()] == ["still_here", "still_here"]


def test_configure_twice_still_one_record_per_call(setup_logs: Callable[..., Logs]) -> None:
    """configure() is idempotent: a second call does not duplicate records or handlers."""
    setup_logs()
    result = setup_logs()
    get_logger("app").info("once")
    logging.getLogger("lib").warning("once_too")
    assert [r.log_record.body for r in result.records()] == ["once", "once_too"]


def test_record_count_equals_call_count_across_threads(log_setup: Logs) -> None:
    """Calls from many threads give exactly as many records: none lost, none doubled."""

    def work(n: int) -> None:
        log = get_logger(f"worker.{n}")
        for i in range(200):
            log.info("tick", i=i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log_setup.records()) == 8 * 200


def test_provider_force_flush_drains_the_queue(log_setup: Logs) -> None:
    """provider.force_flush() alone hands queued records to the exporter."""
    get_logger("app").info("queued")
    log_setup.provider.force_flush()
    assert len(log_setup.exporter.get_finished_logs()) == 1


def test_bound_values_and_contextvars_are_attributes(log_setup: Logs) -> None:
    """Values from bind() and structlog.contextvars appear as attributes."""
    import structlog

    structlog.contextvars.bind_contextvars(request_kind="api")
    try:
        get_logger("app").bind(site_id=3).info("e")
    finally:
        structlog.contextvars.clear_contextvars()
    attrs = log_setup.attributes()
    assert (attrs["site_id"], attrs["request_kind"]) == (3, "api")


def test_disabled_sdk_renders_without_emitting(capsys: pytest.CaptureFixture[str]) -> None:
    """With a disabled SDK provider lines are still rendered and nothing is queued."""
    from opentelemetry.sdk._logs import LoggerProvider

    provider = LoggerProvider(shutdown_on_exit=False)
    provider._disabled = True
    logs.configure(None, provider)
    get_logger("app").info("visible")
    logs.flush()
    assert "visible" in capsys.readouterr().out
    assert not logs._emitter.enabled


def test_errors_are_written_before_the_call_returns(
    log_setup: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error line (and every line queued before it) is out when error() returns."""
    log = get_logger("app")
    log.info("before")
    log.error("failed")
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["before", "failed"]


def test_stack_info_is_a_code_stacktrace(log_setup: Logs) -> None:
    """``stack_info=True`` gives the caller's stack as ``code.stacktrace`` (redacted),
    ending at the call, not inside structlog or the distro; not a ``stack_info`` flag."""
    get_logger("app").info("here", stack_info=True)  # token=hunter2
    attributes = log_setup.attributes()
    assert "stack_info" not in attributes
    stack = attributes["code.stacktrace"]
    assert stack.startswith("Stack (most recent call last):")
    last_frame = stack.rstrip().rsplit("\n  File ", 1)[-1]
    assert "in test_stack_info_is_a_code_stacktrace" in last_frame
    assert "hunter2" not in stack and "token=REDACTED" in stack
    line = log_setup.json_lines()[-1]
    assert line["code.stacktrace"] == stack and "stack_info" not in line


def test_stack_info_in_development_is_a_block(setup_logs: Callable[..., Logs]) -> None:
    """The console line prints the stack below the event, not as a quoted key=value."""
    result = setup_logs(ENVIRONMENT="development")
    get_logger("app").info("here", stack_info=True)
    text = "\n".join(result.lines())
    assert "code.stacktrace=" not in text
    assert "\nStack (most recent call last):" in text
    assert "code.stacktrace" in (result.records()[0].log_record.attributes or {})


def test_stack_info_false_adds_nothing(log_setup: Logs) -> None:
    """``stack_info=False`` is not an attribute and adds no stack."""
    get_logger("app").info("here", stack_info=False)
    attributes = log_setup.attributes()
    assert "stack_info" not in attributes and "code.stacktrace" not in attributes


def test_stack_info_refusing_bool_is_dropped(log_setup: Logs) -> None:
    """A ``stack_info`` value whose truth cannot be taken costs the stack, not the event."""

    class Refuses:
        def __bool__(self) -> bool:
            raise ValueError("no truth")

    get_logger("app").info("kept", stack_info=Refuses())
    assert [r.log_record.body for r in log_setup.records()] == ["kept"]
    assert "code.stacktrace" not in log_setup.attributes()
