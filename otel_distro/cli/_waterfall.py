"""Traces drawn for a terminal: a list of recent traces, or one trace as a waterfall."""

from __future__ import annotations

from datetime import datetime, timezone

from otel_distro.cli._model import SpanView, TraceView, printable

__all__ = ["trace_list", "waterfall"]

NAME_WIDTH = 38
BAR_WIDTH = 40
MAX_LOGS_PER_SPAN = 20


def _when(time_ns: int) -> str:
    return datetime.fromtimestamp(time_ns / 1e9, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def _bar(span: SpanView, trace: TraceView, width: int, fill: str, empty: str) -> str:
    total = max(1, trace.end_ns - trace.start_ns)
    left = int((span.start_ns - trace.start_ns) / total * width)
    size = max(1, round((span.end_ns - span.start_ns) / total * width))
    left = min(max(0, left), width - 1)
    size = min(size, width - left)
    return empty * left + fill * size + empty * (width - left - size)


def _fields(attributes: dict[str, object], limit: int = 4) -> str:
    shown = [f"{printable(k, 40)}={printable(v, 60)}" for k, v in list(attributes.items())[:limit]]
    more = len(attributes) - limit
    return " ".join(shown) + (f" (+{more})" if more > 0 else "")


def waterfall(trace: TraceView, unicode: bool = True, link: str | None = None) -> str:
    """One trace: a header (with ``link``, the trace's address in the trace UI, when
    given), then each span as a bar with its logs beneath."""
    fill, empty = ("█", "·") if unicode else ("#", ".")
    root = trace.root
    tenants = ", ".join(printable(t, 60) for t in trace.tenants) or "-"
    lines = [
        f"trace {trace.trace_id}  {printable(root.name if root else '?', 80)}",
        f"  services {', '.join(printable(s, 40) for s in trace.services)}  tenant {tenants}  "
        f"{trace.duration_ms:.1f} ms  {len(trace.spans)} span(s)  {trace.status}",
    ]
    if link:
        lines.append(f"  open in the trace UI: {printable(link, 300)}")
    lines.append("")
    for span in trace.spans:
        indent = "  " * min(span.depth, 8)
        name = printable(indent + span.name, NAME_WIDTH)
        status = "ERROR" if span.status == "ERROR" else "ok"
        tenant = f"  tenant={printable(span.tenant, 40)}" if span.tenant else ""
        bar = _bar(span, trace, BAR_WIDTH, fill, empty)
        lines.append(
            f"{name:<{NAME_WIDTH}} |{bar}| {span.duration_ms:8.1f} ms  {status:<5}"
            f" {printable(span.service, 30)}{tenant}"
        )
        if span.status == "ERROR" and span.status_message:
            lines.append(f"{indent}    ! {printable(span.status_message, 120)}")
        for log in span.logs[:MAX_LOGS_PER_SPAN]:
            detail = _fields(log.attributes)
            lines.append(
                f"{indent}    {_when(log.time_ns)} {printable(log.severity, 8):<5} "
                f"{printable(log.body, 80)}{'  ' + detail if detail else ''}"
            )
        if len(span.logs) > MAX_LOGS_PER_SPAN:
            lines.append(f"{indent}    ... {len(span.logs) - MAX_LOGS_PER_SPAN} more")
    return "\n".join(lines)


def trace_list(traces: list[TraceView]) -> str:
    """Recent traces, newest first, one line each."""
    if not traces:
        return "no traces found"
    lines = [f"{'started (UTC)':<12}  {'trace id':<32}  {'ms':>8}  spans  status  root / tenant"]
    for trace in traces:
        root = trace.root
        where = printable(root.service if root else "?", 30)
        what = printable(root.name if root else "?", 60)
        tenants = ",".join(printable(t, 40) for t in trace.tenants)
        lines.append(
            f"{_when(trace.start_ns):<12}  {trace.trace_id:<32}  {trace.duration_ms:8.1f}  "
            f"{len(trace.spans):>5}  {trace.status:<6}  "
            f"{where}: {what}"
            f"{'  tenant ' + tenants if tenants else ''}"
        )
    return "\n".join(lines)
