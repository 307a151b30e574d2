"""The table and the PNG chart of ``bench_http``."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.bench_http import Result

BASELINE = "bare"
STOCK = "stock-traces"
HEADER = (
    "variant", "req/s", "p50 ms", "p99 ms", "added ms/req", "vs stock",
    "peak RSS MB", "sent", "served", "server spans", "app logs", "all spans", "all logs",
    "proof",
)  # fmt: skip


def _added_ms(result: Result, baseline: Result | None) -> float | None:
    rps, base = result.median(result.rps), baseline and baseline.median(baseline.rps)
    if not rps or not base:
        return None
    return 1000.0 / rps - 1000.0 / base


def rows(results: list[Result]) -> list[list[str]]:
    """One row per variant (as printed): figures, or the reason it did not run."""
    by_name = {r.name: r for r in results}
    baseline, stock = by_name.get(BASELINE), by_name.get(STOCK)
    stock_added = _added_ms(stock, baseline) if stock else None
    table = []
    for result in results:
        if result.error or not result.rps:
            table.append([result.name, "not run: " + (result.error or "no measurement")])
            continue
        added = _added_ms(result, baseline)
        ratio = (
            f"{added / stock_added:.2f}x"
            if added is not None and stock_added and result.name != BASELINE
            else ""
        )
        got = result.received
        table.append(
            [
                result.name,
                f"{result.median(result.rps):,.0f}",
                f"{result.median(result.p50_ms):.2f}",
                f"{result.median(result.p99_ms):.2f}",
                "0" if result.name == BASELINE else f"{added:.3f}" if added is not None else "",
                ratio,
                f"{result.rss_mb:.0f}" if result.rss_mb else "",
                f"{result.sent:,}",
                f"{result.served:,}",
                f"{got.get('server_spans', 0):,}",
                f"{got.get('app_logs', 0):,}",
                f"{got.get('spans', 0):,}",
                f"{got.get('logs', 0):,}",
                result.proof(),
            ]
        )
    return table


def markdown(results: list[Result]) -> str:
    """The table as Markdown (what is printed, and what the README quotes)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    for row in rows(results):
        if len(row) == 2:
            row = [row[0], row[1], *[""] * (len(HEADER) - 2)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def print_table(results: list[Result], *, connections: int, plan: dict[str, Any]) -> None:
    print(
        f"\nbench_http: wrk {connections} connections, {int(plan['rounds'])} interleaved rounds "
        f"of {plan['seconds']:g} s per variant (medians); uvicorn 1 worker\n"
    )
    print(markdown(results))
    print()
    for result in results:
        print(f"  {result.name:13} {result.label}")


def _spread(ratios: list[float]) -> str:
    middle = f"{statistics.median(ratios):.3f}"
    if len(ratios) < 4:
        return middle
    low, _, high = statistics.quantiles(ratios, n=4)
    return f"{middle} (middle half of rounds {low:.3f}-{high:.3f})"


def paired_ratios(results: list[Result], ours: str) -> list[str]:
    """Each ``<ours>@<sha>`` against ``ours``, round by round (req/s and added ms/req)."""
    by_name = {r.name: r for r in results}
    base, bare = by_name.get(ours), by_name.get(BASELINE)
    lines: list[str] = []
    if base is None or bare is None or base.error:
        return lines
    for ref in results:
        if not ref.name.startswith(ours + "@") or ref.error:
            continue
        rounds = list(zip(ref.rps, base.rps, bare.rps, strict=False))
        rps = [r / b for r, b, _ in rounds]
        added = [(1000 / r - 1000 / n) / (1000 / b - 1000 / n) for r, b, n in rounds if b < n]
        lines.append(
            f"{ref.name} / {ours}, paired by round: req/s {_spread(rps)}; "
            f"added ms/req {_spread(added) if added else '-'}"
        )
    return lines


def write_chart(results: list[Result], path: Path) -> str:
    """Write req/s and p50/p99 bars per variant to ``path``; a line saying what was done."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "chart skipped: matplotlib is not installed (pip install -e '.[bench]')"
    measured = [r for r in results if not r.error and r.rps]
    names = [r.name for r in measured]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    rps = [r.median(r.rps) or 0.0 for r in measured]
    left.barh(names, rps, color="#4C72B0")
    left.invert_yaxis()
    left.set_xlim(0, max(rps, default=1.0) * 1.15)
    left.set_xlabel("requests/s (median of rounds, higher is better)")
    for index, value in enumerate(rps):
        left.text(value, index, f" {value:,.0f}", va="center", fontsize=8)
    positions = range(len(measured))
    p50 = [r.median(r.p50_ms) or 0.0 for r in measured]
    p99 = [r.median(r.p99_ms) or 0.0 for r in measured]
    right.barh([p - 0.2 for p in positions], p50, height=0.4, label="p50", color="#55A868")
    right.barh([p + 0.2 for p in positions], p99, height=0.4, label="p99", color="#C44E52")
    right.set_yticks(list(positions), names)
    right.invert_yaxis()
    right.set_xlabel("latency ms (wrk, 16 connections; lower is better)")
    right.legend()
    figure.suptitle("FastAPI route + one structlog call, uvicorn 1 worker, OTLP/HTTP to a sink")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"chart written to {path}"
