"""The ``site-stats`` command: parses arguments and calls the library.

Exit status (the contract): 0 on success; 2 with ONE line on stderr when the command could not do its work
(bad input, or an environment fault such as a full disk or no network: the line says what to do); 1 when a run
finished but some files failed (the summary names them); 130 when interrupted. Every ``SiteStatsError`` and
every OS/AWS/DuckDB failure ``errors.translate`` recognises becomes that one line, never a traceback; anything
else is an internal error (status 70, one line; ``--debug`` shows the traceback).

Each command is a small ``_cmd_NAME(args, settings) -> int`` function listed in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from .config import Settings
from .dates import parse_day
from .errors import SiteStatsError, UserError, translate

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug of ours, not something the user did

__all__ = ["main", "UserError"]


def _date(text: str) -> dt.date | None:
    """argparse's view of ``dates.parse_day``: its message as the usage error."""
    try:
        return parse_day(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of days (0 or more), got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (the contract), with a pointer to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--warehouse", help="local folder or s3://bucket/prefix (env SITE_STATS_WAREHOUSE)")
    common.add_argument("--database", help="Glue database for s3:// warehouses (env SITE_STATS_DATABASE)")
    common.add_argument("--geoip-db", help="MaxMind-format City database (env SITE_STATS_GEOIP_DB)")
    common.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    common.add_argument("--verbose", action="store_true", help="log what the run does (files, timings, drops) on stderr")
    period = _Parser(add_help=False)
    period.add_argument("--start", type=_date, help="first UTC day, inclusive (YYYY-MM-DD)")
    period.add_argument("--end", type=_date, help="last UTC day, inclusive (YYYY-MM-DD)")
    period.add_argument("--site", help="the site's host name (default: all sites)")
    confirm = _Parser(add_help=False)
    confirm.add_argument("--yes", action="store_true", help="do not ask before deleting")

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
    p.add_argument("--single-file", action="store_true",
                   help="also write report.html: the whole report in one self-contained file that can be mailed")

    p = sub.add_parser("serve", parents=[common], help="run the event collector")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--site", action="append", dest="sites", help="a site to accept events for (repeatable)")

    p = sub.add_parser("demo", parents=[common], help="generate sample logs, ingest them and render the report")
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--out", default="outputs")

    p = sub.add_parser("rollup", parents=[common], help="rebuild the daily rollup tables from the stored events")
    p.add_argument("--start", type=_date, help="first UTC day, inclusive (YYYY-MM-DD; default: the first with events)")
    p.add_argument("--end", type=_date, help="last UTC day, inclusive (YYYY-MM-DD; default: the last with events)")
    p.add_argument("--engine", choices=["duckdb", "athena"], default=None,
                   help="who computes them: DuckDB here (default), or Athena for an s3:// warehouse")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("upgrade", parents=[common],
                       help="bring a warehouse written by an older site-stats to the current storage version")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("prune", parents=[common, confirm],
                       help="delete events, rollups, rejects, ledger records and salts of days older than N days")
    p.add_argument("--keep-days", type=_non_negative, required=True, metavar="N",
                   help="keep today and the N days before it (UTC)")

    p = sub.add_parser("forget", parents=[common, confirm],
                       help="erase one site's data, or the events whose path matches a SQL LIKE pattern")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", help="the site (host name) to erase")
    which.add_argument("--path-like", metavar="PATTERN", help="a SQL LIKE pattern on the path, e.g. '/users/%%'")
    return parser


# -- commands -------------------------------------------------------------------------------------------------
def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ._memory import keep_freed_memory
    from .ingest import ingest
    from .warehouse.guard import require_warehouse

    require_warehouse(settings, writing=True)
    keep_freed_memory()  # a process that ends with the ingest: freed buffers serve the next file (_memory)
    summary = ingest(args.sources, format=args.format, site=args.site, settings=settings,
                     progress=False if args.quiet else None)
    print(summary.text())
    if summary.problems:  # one line on stderr too, for cron mail; the summary above names the files
        print(f"site-stats: {len(summary.problems)} file(s) failed or were damaged (named in the summary); "
              "fix or remove them and run again: the others are in", file=sys.stderr)
        return 1
    return 0


def _check_period(args: argparse.Namespace) -> None:
    if args.start and args.end and args.start > args.end:
        raise UserError(f"--start {args.start} is after --end {args.end}", "swap them")


def _reads_warehouse(args: argparse.Namespace, settings: Settings) -> None:
    from .warehouse.guard import require_warehouse

    if (args.engine or settings.engine) == "duckdb":
        require_warehouse(settings)


def _cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    from . import export
    from .api import query
    from .engines.sql import load

    _check_period(args)
    load(args.name)  # an unknown query is reported before the warehouse is looked at
    _reads_warehouse(args, settings)
    frame = query(args.name, args.start, args.end, args.site, engine=args.engine, settings=settings)
    render = {"table": export.to_table, "csv": export.to_csv, "json": export.to_json}[args.format]
    sys.stdout.write(render(frame).rstrip("\n") + "\n")
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from .reports.context import check_tz
    from .reports.run import render_report

    _check_period(args)
    check_tz(args.tz)  # every argument is checked before the warehouse is looked at
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file", "give a folder for the report (it is created when missing)")
    _reads_warehouse(args, settings)
    index = render_report(start=args.start, end=args.end, site=args.site, out=out, tz=args.tz,
                          settings=settings, engine=args.engine, single=args.single_file)
    print(f"report: {index}")
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from .collector.app import serve
    except ModuleNotFoundError:
        raise UserError("the event collector is not part of this version yet", "ingest access logs instead") from None
    sites = tuple(args.sites or ()) or settings.sites
    if not sites:
        raise UserError("no site to collect events for", "name one: --site example.com (or env SITE_STATS_SITES)")
    serve(settings.with_(sites=sites), host=args.host, port=args.port)
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from .demo import run_demo

    return run_demo(settings, days=args.days, out=Path(args.out))


def _confirm(plan: str, yes: bool) -> bool:
    """Show what will be deleted; True to go ahead. Without --yes, ask on a terminal and refuse otherwise."""
    print(plan)
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UserError("not deleting anything without confirmation (stdin is not a terminal)", "add --yes")
    answer = input("delete this? [y/N] ").strip().lower()
    return answer in ("y", "yes")


def _writer_lock(settings: Settings, command: str) -> contextlib.AbstractContextManager:
    """A local warehouse's writer lock; nothing for S3, which has none."""
    if settings.is_s3:
        return contextlib.nullcontext()
    from .warehouse.local import LocalWarehouse

    return LocalWarehouse(settings.warehouse).lock(settings.lock_timeout_seconds, command=command)


def _cmd_rollup(args: argparse.Namespace, settings: Settings) -> int:
    from .warehouse.guard import require_warehouse
    from .warehouse.rollups import rebuild
    from .warehouse.storage import ensure_current

    _check_period(args)
    require_warehouse(settings, writing=True)
    if args.engine:
        settings = settings.with_(engine=args.engine)
    with _writer_lock(settings, "rollup"):
        upgraded = ensure_current(settings, progress=settings.progress and not args.quiet)
        if upgraded:
            print(upgraded.text())
        result = rebuild(settings.warehouse, settings, start=args.start and args.start.isoformat(),
                         end=args.end and args.end.isoformat(), progress=settings.progress and not args.quiet)
    print(result.text())
    return 0


def _cmd_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Convert the event files (``warehouse.storage``), then rebuild the rollups their new sizes made stale."""
    from .warehouse.guard import require_warehouse
    from .warehouse.rollups import refresh
    from .warehouse.storage import CURRENT, ensure_current

    require_warehouse(settings)
    show = settings.progress and not args.quiet
    with _writer_lock(settings, "upgrade"):
        upgraded = ensure_current(settings, progress=show)
        if upgraded is None:
            print(f"storage already at version {CURRENT}: nothing to upgrade")
            return 0
        print(upgraded.text())
        print(refresh(settings.warehouse, settings, progress=show).text())
    return 0


def _cmd_prune(args: argparse.Namespace, settings: Settings) -> int:
    from .warehouse.guard import require_warehouse
    from .warehouse.retention import Retention

    require_warehouse(settings)
    retention = Retention.open(settings)
    try:
        return _apply(retention, retention.plan_prune(args.keep_days), args.yes)
    finally:
        retention.close()


def _cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    from .warehouse.guard import require_warehouse
    from .warehouse.retention import Retention

    require_warehouse(settings)
    retention = Retention.open(settings)
    try:
        return _apply(retention, retention.plan_forget(site=args.site, path_like=args.path_like), args.yes)
    finally:
        retention.close()


def _apply(retention, plan, yes: bool) -> int:
    if plan.empty:
        print(plan.text())
        return 0
    if not _confirm(plan.text(), yes):
        print("nothing deleted")
        return 0
    print(retention.apply(plan).text())
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "ingest": _cmd_ingest,
    "query": _cmd_query,
    "report": _cmd_report,
    "serve": _cmd_serve,
    "demo": _cmd_demo,
    "rollup": _cmd_rollup,
    "upgrade": _cmd_upgrade,
    "prune": _cmd_prune,
    "forget": _cmd_forget,
}


# -- errors -----------------------------------------------------------------------------------------------------
def _error_line(exc: Exception) -> tuple[str, int]:
    """The one stderr line and the exit status for an exception that ended a command."""
    error: SiteStatsError | None = translate(exc)
    if error is None and isinstance(exc, (ValueError, NotImplementedError)):
        error = UserError(" ".join(str(exc).split()) or type(exc).__name__)  # our libraries' input checks
    if error is not None:
        return f"site-stats: error: {error.one_line()}", error.exit_code
    detail = " ".join(str(exc).split())[:300]
    return (f"site-stats: internal error: {type(exc).__name__}: {detail}; run again with --debug for the "
            "traceback and report it", INTERNAL_ERROR)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one line each (``site-stats: warning: ...``), without the source line Python adds."""
    print(f"site-stats: warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.showwarning = _warning_line
    if args.verbose:
        _log_to_stderr()
    try:
        settings = Settings.from_env(warehouse=args.warehouse, database=args.database, geoip_db=args.geoip_db)
        return COMMANDS[args.command](args, settings)
    except KeyboardInterrupt:
        print("site-stats: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `site-stats query ... | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if args.debug:
            raise
        line, status = _error_line(exc)
        print(line, file=sys.stderr)
        return status


def _log_to_stderr() -> None:
    """``--verbose``: the library's INFO records (``logging.getLogger("stats_lib...")``) as lines on stderr.
    Without it the CLI prints only its summary: nothing is configured and INFO records go nowhere."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("site-stats: %(message)s"))
    package = logging.getLogger("stats_lib")
    package.addHandler(handler)
    package.setLevel(logging.INFO)


def run() -> None:
    """The ``site-stats`` command: ``main``, then the end of the process without Python freeing its objects one
    by one. After an ingest of the bench corpus that teardown (every cache, compiled regex and module) took
    0.25-0.39 s of the run; here the process waits for its threads and runs its exit handlers (``atexit``) as
    Python would, flushes its output, and leaves the memory to the operating system."""
    status = main()
    for thread in threading.enumerate():  # what Python's own exit waits for: threads that are not daemons
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # the exit handlers, once (os._exit runs none)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left: nothing is wrong (main's rule)
        pass
    os._exit(status)


if __name__ == "__main__":
    run()
