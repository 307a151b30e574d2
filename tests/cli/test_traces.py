"""``otel-distro traces show|html`` on OTLP-JSON written by the distro's own file exporter."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode

from otel_distro.cli._model import LogView, SpanView, build_trace
from tests.cli.conftest import Run, trace_id_of


def _request(provider: TracerProvider, tenant: str = "t-42") -> str:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("GET /sites/{site_id}", kind=trace.SpanKind.SERVER) as root:
        root.set_attribute("tenant.id", tenant)
        with tracer.start_as_current_span("SELECT sites") as child:
            child.add_event("cache_miss", {"key.kind": "site"})
        with tracer.start_as_current_span("POST api.billing") as call:
            call.set_status(Status(StatusCode.ERROR, "upstream 503"))
    return trace_id_of(root)


def _logs_file(folder: Path, trace_id: str, span_id: str, body: str) -> None:
    line = {
        "resourceLogs": [
            {
                "resource": {"attributes": []},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1700000000000000000",
                                "severityNumber": 13,
                                "body": {"stringValue": body},
                                "traceId": trace_id,
                                "spanId": span_id,
                                "attributes": [{"key": "site_id", "value": {"intValue": "42"}}],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    (folder / "logs.jsonl").write_text(json.dumps(line) + "\n")


def test_show_draws_the_waterfall_with_tenant_status_and_logs(
    cli: Run, span_files: tuple[Path, TracerProvider]
) -> None:
    """Every span is a line with a bar, children indented, the tenant and errors shown,
    log records and events beneath their span."""
    folder, provider = span_files
    trace_id = _request(provider)
    spans = [
        s
        for line in (folder / "traces.jsonl").read_text().splitlines()
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for s in ss["spans"]
    ]
    root_id = next(s["spanId"] for s in spans if not s.get("parentSpanId"))
    _logs_file(folder, trace_id, root_id, "site_loaded")
    done = cli("traces", "show", trace_id, "--dir", str(folder), "--ascii")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"trace {trace_id}" in out and "tenant t-42" in out and "3 span(s)  ERROR" in out
    lines = out.splitlines()
    root_line = next(line for line in lines if line.startswith("GET /sites/{site_id}"))
    assert "|" in root_line and "#" in root_line and "tenant=t-42" in root_line
    assert any(line.startswith("  SELECT sites") for line in lines)
    assert any(line.startswith("  POST api.billing") and "ERROR" in line for line in lines)
    assert "! upstream 503" in out
    assert re.search(r"WARN\s+site_loaded\s+site_id=42", out)
    assert re.search(r"EVENT\s+cache_miss\s+key.kind=site", out)


def test_show_without_an_id_lists_the_latest_traces(
    cli: Run, span_files: tuple[Path, TracerProvider]
) -> None:
    """No trace id: one line per trace, newest first, with root and tenant."""
    folder, provider = span_files
    first, second = _request(provider, "t-1"), _request(provider, "t-2")
    done = cli("traces", "show", "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if first in line or second in line]
    assert [second in rows[0], first in rows[1]] == [True, True]
    assert "tenant t-2" in rows[0] and "GET /sites/{site_id}" in rows[0]


def test_an_unknown_or_malformed_id_is_a_clear_error(cli: Run, tmp_path: Path) -> None:
    """A missing trace says where it looked (exit 1); a malformed id exits 2."""
    missing = secrets.token_hex(16)
    done = cli("traces", "show", missing, "--dir", str(tmp_path))
    assert done.returncode == 1 and f"trace {missing} not found in files in" in done.stderr
    assert cli("traces", "show", "not-an-id", "--dir", str(tmp_path)).returncode == 2


def test_terminal_control_sequences_from_telemetry_are_neutralised(
    cli: Run, span_files: tuple[Path, TracerProvider]
) -> None:
    """A span name or log body carrying escape sequences cannot drive the terminal."""
    folder, provider = span_files
    with provider.get_tracer("t").start_as_current_span("evil\x1b[2J\x1b]0;pwned\x07name") as span:
        pass
    trace_id = trace_id_of(span)
    done = cli("traces", "show", trace_id, "--dir", str(folder))
    assert done.returncode == 0
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "evil?[2J?]0;pwned?name" in done.stdout


def test_html_is_self_contained_and_escapes_telemetry(
    cli: Run, span_files: tuple[Path, TracerProvider], tmp_path: Path
) -> None:
    """One file, no script and no external asset (its one link is to the trace UI); a
    hostile span name is text, not markup."""
    folder, provider = span_files
    tracer = provider.get_tracer("t")
    hostile = '<script>alert(1)</script><img src="http://x/y">'
    with tracer.start_as_current_span("GET /x") as root, tracer.start_as_current_span(hostile):
        pass
    out = tmp_path / "trace.html"
    done = cli("traces", "html", trace_id_of(root), "-o", str(out), "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"src=\"?https?:", page)
    # the one address in the page is the trace UI link, a plain anchor (nothing is loaded)
    assert re.findall(r"href=\"?(https?:[^\" >]*)", page) == [
        f"http://localhost:16686/trace/{trace_id_of(root)}"
    ]
    assert "default-src 'none'" in page


def test_a_parent_loop_or_missing_parent_still_shows_every_span() -> None:
    """Spans whose parent is absent are roots; a cycle neither hangs nor drops spans."""
    spans = [
        SpanView("t", "a", "b", "A", "s", 0, 10),
        SpanView("t", "b", "a", "B", "s", 1, 9),
        SpanView("t", "c", "zz", "C", "s", 2, 3),
    ]
    view = build_trace("t", spans, [("c", LogView(5, "INFO", "hello"))])
    assert sorted(s.name for s in view.spans) == ["A", "B", "C"]
    assert next(s for s in view.spans if s.name == "C").logs[0].body == "hello"


def test_html_renders_in_headless_chromium(
    cli: Run, span_files: tuple[Path, TracerProvider], tmp_path: Path
) -> None:
    """Chromium renders the page: the span names are in its DOM and the screenshot is drawn."""
    from tests.cli.browser import chromium_dom, chromium_screenshot

    folder, provider = span_files
    trace_id = _request(provider, "t-browser")
    page = tmp_path / "trace.html"
    assert cli("traces", "html", trace_id, "-o", str(page), "--dir", str(folder)).returncode == 0
    dom = chromium_dom(page)
    for name in ("GET /sites/{site_id}", "SELECT sites", "POST api.billing", "tenant t-browser"):
        assert name in dom
    shot = chromium_screenshot(page, tmp_path / "trace.png")
    assert shot.distinct_colours > 3  # bars and text, not a blank page


def _log_record(trace_id: str, span_id: str, time_ns: int, body: str, **attrs: str) -> dict:
    return {
        "timeUnixNano": str(time_ns),
        "severityText": "INFO",
        "body": {"stringValue": body},
        "traceId": trace_id,
        "spanId": span_id,
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()],
    }


def _write_logs(folder: Path, records: list[dict]) -> None:
    line = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": records}]}]}
    (folder / "logs.jsonl").write_text(json.dumps(line) + "\n")


def _log_event(span: trace.Span, time_ns: int, message: str) -> None:
    """What OTEL_DISTRO_LOGS_AS_SPAN_EVENTS adds to a span for one log record."""
    span.add_event(
        "log", {"log.severity": "INFO", "log.message": message, "log.logger": "app"}, time_ns
    )


def test_a_log_record_that_is_also_a_span_event_is_shown_once(
    cli: Run, span_files: tuple[Path, TracerProvider]
) -> None:
    """With logs as span events each record is exported twice (record and ``log`` event):
    the waterfall pairs them by span, timestamp and message and shows the line once; two
    identical log calls stay two lines; another span event is still shown."""
    folder, provider = span_files
    t0 = 1_700_000_000_000_000_000
    with provider.get_tracer("t").start_as_current_span("GET /sites") as root:
        _log_event(root, t0, "site_read")
        _log_event(root, t0 + 5, "site_read")  # the same call again, later
        _log_event(root, t0 + 9, "cache_warm")
        root.add_event("cache_miss", {"key.kind": "site"}, t0 + 7)
    trace_id, span_id = trace_id_of(root), format(root.get_span_context().span_id, "016x")
    _write_logs(
        folder,
        [
            _log_record(trace_id, span_id, t0, "site_read", site_id="s-1"),
            _log_record(trace_id, span_id, t0 + 5, "site_read", site_id="s-1"),
            _log_record(trace_id, span_id, t0 + 9, "cache_warm"),
        ],
    )
    done = cli("traces", "show", trace_id, "--dir", str(folder), "--ascii")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len([line for line in lines if re.search(r"INFO\s+site_read\s+site_id=s-1", line)]) == 2
    assert len([line for line in lines if "cache_warm" in line]) == 1
    assert not any("log.message" in line or re.search(r"EVENT\s+log\b", line) for line in lines)
    assert re.search(r"EVENT\s+cache_miss\s+key.kind=site", done.stdout)


def test_a_log_event_without_its_record_is_shown_as_its_log_line() -> None:
    """Jaeger holds only the span: its ``log`` events read as the log lines they carry."""
    span = SpanView("t", "a", "", "GET /x", "s", 0, 10)
    span.logs.append(
        LogView(
            3,
            "EVENT",
            "log",
            {"log.severity": "WARN", "log.message": "slow_query", "db.ms": 812},
            source="event",
        )
    )
    (shown,) = build_trace("t", [span], []).spans[0].logs
    assert (shown.severity, shown.body, shown.attributes) == ("WARN", "slow_query", {"db.ms": 812})


def test_show_and_html_link_the_trace_in_the_trace_ui(
    cli: Run, span_files: tuple[Path, TracerProvider], tmp_path: Path
) -> None:
    """The waterfall and the page carry the trace's link from OTEL_DISTRO_TRACE_URL_TEMPLATE
    (the link Sentry events carry), the default being the local Jaeger UI."""
    folder, provider = span_files
    trace_id = _request(provider)
    done = cli("traces", "show", trace_id, "--dir", str(folder))
    assert f"open in the trace UI: http://localhost:16686/trace/{trace_id}" in done.stdout
    template = {"OTEL_DISTRO_TRACE_URL_TEMPLATE": "https://ui.test/t?id={trace_id}&x=1"}
    done = cli("traces", "show", trace_id, "--dir", str(folder), env=template)
    assert f"open in the trace UI: https://ui.test/t?id={trace_id}&x=1" in done.stdout
    page = tmp_path / "trace.html"
    args = ("traces", "html", trace_id, "-o", str(page), "--dir", str(folder))
    assert cli(*args, env=template).returncode == 0
    assert f'<a href="https://ui.test/t?id={trace_id}&amp;x=1">' in page.read_text()
