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
    """One file, no script and no external asset; a hostile span name is text, not markup."""
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
    assert not re.search(r"(src|href)=\"?https?:", page)
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
