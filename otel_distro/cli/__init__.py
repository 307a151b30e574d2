"""The ``otel-distro`` command.

* ``otel-distro doctor [--jaeger URL]``: validates every setting with the start-up
  rules, prints the effective configuration (secrets hidden), checks that the OTLP
  endpoint (and Jaeger) answer, and lists what ``opentelemetry-instrument`` would
  load. Exit status 0 when healthy, 1 when a problem was found.
* ``otel-distro doctor --production [--require-sentry] [--json]``: the deployment
  checklist, one PASS/FAIL line per check; exit status 1 when any check fails.
* ``otel-distro traces show [TRACE_ID] [--service S] [--source auto|jaeger|files]``:
  the latest traces as a list, or one trace as a waterfall (spans as bars with
  duration, status and tenant, their log records beneath) headed by its link in the
  trace UI (``OTEL_DISTRO_TRACE_URL_TEMPLATE``, as on Sentry events).
* ``otel-distro traces html TRACE_ID -o FILE``: the same waterfall as one
  self-contained HTML file.

Files are the embedded fallback's (``OTEL_DISTRO_FILE_FALLBACK_DIR``, default
``./telemetry/``) and the local Collector's (``./telemetry/collector/``), or
``--dir``. Jaeger is ``--jaeger`` (default ``$JAEGER_API`` or
``http://127.0.0.1:16686``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_distro.cli._sources import TraceSource

__all__ = ["main"]

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
DEFAULT_JAEGER = "http://127.0.0.1:16686"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="otel-distro", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    doctor = commands.add_parser("doctor", help="check the configuration and the endpoints")
    doctor.add_argument("--jaeger", help="also check Jaeger's query API at this URL")
    doctor.add_argument(
        "--production", action="store_true", help="run the production checklist instead"
    )
    doctor.add_argument(
        "--require-sentry", action="store_true", help="--production: Sentry must be enabled"
    )
    doctor.add_argument("--json", action="store_true", help="--production: print JSON")
    traces = commands.add_parser("traces", help="show traces from Jaeger or OTLP-JSON files")
    views = traces.add_subparsers(dest="view", required=True)
    show = views.add_parser("show", help="a waterfall of one trace, or the latest traces")
    show.add_argument("trace_id", nargs="?", help="32 hex digits; omit to list recent traces")
    html = views.add_parser("html", help="one trace as a self-contained HTML file")
    html.add_argument("trace_id", help="32 hex digits")
    html.add_argument("-o", "--output", required=True, help="the HTML file to write")
    for view in (show, html):
        view.add_argument("--service", help="only traces of this service")
        view.add_argument("--source", choices=("auto", "jaeger", "files"), default="auto")
        view.add_argument("--dir", action="append", help="a folder of OTLP-JSON files (repeatable)")
        view.add_argument(
            "--jaeger", help=f"Jaeger's query URL (default $JAEGER_API or {DEFAULT_JAEGER})"
        )
        view.add_argument("--limit", type=int, default=20, help="how many traces to list")
    show.add_argument("--ascii", action="store_true", help="draw bars with # instead of blocks")
    return parser


def _jaeger_url(option: str | None) -> str:
    return option or os.environ.get("JAEGER_API") or DEFAULT_JAEGER


def _source(args: argparse.Namespace) -> TraceSource:
    from otel_distro.cli._sources import FileSource, JaegerSource, default_dirs
    from otel_distro.config import load_settings

    dirs = (
        [Path(d) for d in args.dir] if args.dir else default_dirs(load_settings().file_fallback_dir)
    )
    files = FileSource(dirs)
    if args.source == "files" or args.dir:
        return files
    jaeger = JaegerSource(_jaeger_url(args.jaeger))
    if args.source == "jaeger":
        return jaeger
    from otel_distro.cli._sources import SourceError

    try:
        jaeger.services()
    except SourceError:
        return files
    return jaeger


def _traces(args: argparse.Namespace) -> int:
    from otel_distro.cli._html import trace_html
    from otel_distro.cli._sources import SourceError
    from otel_distro.cli._waterfall import trace_list, waterfall

    if args.trace_id is not None and not _TRACE_ID.match(args.trace_id):
        print("otel-distro: a trace id is 32 hexadecimal digits", file=sys.stderr)
        return 2
    source = _source(args)
    try:
        if args.trace_id is None:
            print(trace_list(source.latest(args.service, max(1, args.limit))))
            return 0
        trace = source.trace(args.trace_id)
    except SourceError as exc:
        print(f"otel-distro: {exc}", file=sys.stderr)
        return 1
    if trace is None:
        where = source.describe()
        print(f"otel-distro: trace {args.trace_id.lower()} not found in {where}", file=sys.stderr)
        return 1
    link = _trace_link(trace.trace_id)
    if args.view == "html":
        Path(args.output).write_text(trace_html(trace, link), encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower()
    print(waterfall(trace, unicode=not args.ascii and encoding.startswith("utf"), link=link))
    return 0


def _trace_link(trace_id: str) -> str:
    """The trace's address in the trace UI (``OTEL_DISTRO_TRACE_URL_TEMPLATE``)."""
    from otel_distro.config import load_settings
    from otel_distro.errors import trace_link

    return trace_link(trace_id, load_settings())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "doctor" and not args.production and (args.json or args.require_sentry):
        parser.error("--json and --require-sentry go with --production")  # exits with 2
    if args.command == "doctor" and args.production:
        from otel_distro.cli._production import production_checks, render_checks, render_json

        checks = production_checks(require_sentry=args.require_sentry)
        print(render_json(checks) if args.json else render_checks(checks))
        return 0 if all(c.passed for c in checks) else 1
    if args.command == "doctor":
        from otel_distro.cli._doctor import diagnose, render

        found = diagnose(jaeger_url=args.jaeger)
        print(render(found))
        return 0 if found.healthy else 1
    return _traces(args)


if __name__ == "__main__":
    sys.exit(main())
