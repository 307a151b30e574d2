"""One trace as a self-contained HTML page: inline CSS, no script, no external asset."""

from __future__ import annotations

from html import escape

from otel_distro.cli._model import SpanView, TraceView

__all__ = ["trace_html"]

MAX_LOGS_PER_SPAN = 50

_STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
.meta { color: #566; margin-bottom: 16px; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td { padding: 3px 6px; vertical-align: top; border-bottom: 1px solid #eef; }
td.name { width: 34%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
td.dur { width: 9%; text-align: right; font-variant-numeric: tabular-nums; }
td.svc { width: 14%; color: #566; overflow: hidden; text-overflow: ellipsis; }
.track { position: relative; height: 14px; background: #f3f5f9; border-radius: 3px; }
.bar { position: absolute; top: 0; height: 14px; background: #4f7fd9; border-radius: 3px;
       min-width: 2px; }
tr.error .bar { background: #d9534f; }
tr.error td.name { color: #b52b27; font-weight: 600; }
.tenant { color: #2f7d4a; }
tr.log td { border-bottom: none; color: #445; font-size: 12px; padding-top: 0; }
.sev { display: inline-block; min-width: 44px; font-weight: 600; }
.sev.ERROR, .sev.FATAL { color: #b52b27; } .sev.WARN, .sev.WARNING { color: #a86b00; }
"""


def _span_rows(span: SpanView, trace: TraceView) -> list[str]:
    total = max(1, trace.end_ns - trace.start_ns)
    left = max(0.0, min(100.0, (span.start_ns - trace.start_ns) / total * 100))
    width = max(0.2, min(100.0 - left, (span.end_ns - span.start_ns) / total * 100))
    error = span.status == "ERROR"
    pad = min(span.depth, 12) * 14
    tenant = f' <span class="tenant">tenant {escape(span.tenant)}</span>' if span.tenant else ""
    title = escape(span.status_message) if span.status_message else ""
    rows = [
        f'<tr class="span{" error" if error else ""}" title="{title}">'
        f'<td class="name" style="padding-left:{pad + 6}px">{escape(span.name)}{tenant}</td>'
        f'<td><div class="track"><div class="bar" style="left:{left:.2f}%;width:{width:.2f}%">'
        f"</div></div></td>"
        f'<td class="dur">{span.duration_ms:.1f} ms</td>'
        f'<td class="svc">{escape(span.service)}</td></tr>'
    ]
    for log in span.logs[:MAX_LOGS_PER_SPAN]:
        fields = " ".join(
            f"{escape(str(k))}={escape(str(v))}" for k, v in list(log.attributes.items())[:6]
        )
        rows.append(
            f'<tr class="log"><td colspan="4" style="padding-left:{pad + 24}px">'
            f'<span class="sev {escape(log.severity)}">{escape(log.severity)}</span> '
            f"{escape(log.body)} <small>{fields}</small></td></tr>"
        )
    return rows


def _link(link: str | None) -> str:
    """An anchor to the trace UI for an http(s) ``link`` (nothing is loaded from it)."""
    if not link or not link.lower().startswith(("http://", "https://")):
        return ""
    return f' · <a href="{escape(link)}">open in the trace UI</a>'


def trace_html(trace: TraceView, link: str | None = None) -> str:
    """The waterfall of ``trace`` (``link``: its address in the trace UI); every telemetry
    string is HTML-escaped."""
    root = trace.root
    title = escape(root.name if root else trace.trace_id)
    tenants = ", ".join(escape(t) for t in trace.tenants) or "-"
    rows = [row for span in trace.spans for row in _span_rows(span, trace)]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>trace {escape(trace.trace_id)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{title}</h1>"
        f'<div class="meta">trace {escape(trace.trace_id)} · '
        f"{', '.join(escape(s) for s in trace.services)} · tenant {tenants} · "
        f"{trace.duration_ms:.1f} ms · {len(trace.spans)} spans · {trace.status}"
        f"{_link(link)}</div>"
        f"<table>{''.join(rows)}</table></body></html>\n"
    )
