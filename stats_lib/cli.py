"""The ``site-stats`` command: parses arguments and calls the library. User mistakes end in one line on stderr."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .config import Settings


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text!r}; use YYYY-MM-DD") from None


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (the contract), with a pointer to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--warehouse", help="local folder or s3://bucket/prefix (env SITE_STATS_WAREHOUSE)")
    common.add_argument("--database", help="Glue database for s3:// warehouses (env SITE_STATS_DATABASE)")
    common.add_argument("--geoip-db", help="MaxMind-format City database (env SITE_STATS_GEOIP_DB)")
    period = _Parser(add_help=False)
    period.add_argument("--start", type=_date, help="first UTC day, inclusive (YYYY-MM-DD)")
    period.add_argument("--end", type=_date, help="last UTC day, inclusive (YYYY-MM-DD)")
    period.add_argument("--site", help="the site's host name (default: all sites)")

    parser = _Parser(prog="site-stats", description="Privacy-first web analytics from access logs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("ingest", parents=[common], help="read log files into the warehouse")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="log files, folders or globs (plain, .gz, .bz2, .zst)")
    p.add_argument("--format", default="auto", help="auto (default) or a format name")
    p.add_argument("--site", help="the site these logs belong to (overrides the host the log records)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("query", parents=[common, period], help="run a named query from queries/")
    p.add_argument("name")
    p.add_argument("--engine", choices=["duckdb", "athena"], default=None)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")

    p = sub.add_parser("report", parents=[common, period], help="render the report notebooks to HTML")
    p.add_argument("--out", default="outputs", help="output folder (default outputs/)")
    p.add_argument("--tz", default="UTC", help="time zone the report displays (days stay UTC)")
    p.add_argument("--engine", choices=["duckdb", "athena"], default=None)

    p = sub.add_parser("serve", parents=[common], help="run the event collector")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--site", action="append", dest="sites", help="a site to accept events for (repeatable)")

    p = sub.add_parser("demo", parents=[common], help="generate sample logs, ingest them and render the report")
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--out", default="outputs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env(warehouse=args.warehouse, database=args.database, geoip_db=args.geoip_db)
    try:
        return _run(args, settings)
    except KeyboardInterrupt:
        print("site-stats: interrupted", file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"site-stats: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError, NotImplementedError) as exc:
        print(f"site-stats: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "ingest":
        from .ingest import ingest

        summary = ingest(args.sources, format=args.format, site=args.site, settings=settings,
                         progress=False if args.quiet else None)
        print(summary.text())
        return 0
    if args.command == "query":
        from . import export
        from .api import query

        frame = query(args.name, args.start, args.end, args.site, engine=args.engine, settings=settings)
        render = {"table": export.to_table, "csv": export.to_csv, "json": export.to_json}[args.format]
        sys.stdout.write(render(frame).rstrip("\n") + "\n")
        return 0
    if args.command == "report":
        from .reports.run import render_report

        index = render_report(start=args.start, end=args.end, site=args.site, out=Path(args.out), tz=args.tz,
                              settings=settings, engine=args.engine)
        print(f"report: {index}")
        return 0
    if args.command == "serve":
        try:
            from .collector.app import serve
        except ModuleNotFoundError:
            raise UserError("the event collector is not part of this version yet; ingest access logs instead") from None
        sites = tuple(args.sites or ()) or settings.sites
        if not sites:
            raise UserError("name at least one site: --site example.com (or env SITE_STATS_SITES)")
        serve(settings.with_(sites=sites), host=args.host, port=args.port)
        return 0
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(settings, days=args.days, out=Path(args.out))
    raise UserError(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
