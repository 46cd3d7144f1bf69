"""Command line of the named queries and the dashboard: ``query --named`` and ``dashboard``.

Input: parsed arguments. Output: query results or the dashboard file's path on stdout, the window on
stderr. ``cli.py`` adds these arguments and dispatches here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stream_processor.errors import ConfigError
from stream_processor.named_query import DEFAULT_HOURS


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """``--since``, ``--until``, ``--hours``: the event-time window of the named queries."""
    group = parser.add_argument_group("time window of named queries (UTC, [since, until))")
    group.add_argument("--since", metavar="TIME", help="window start, e.g. 2025-11-23T10:00:00Z")
    group.add_argument("--until", metavar="TIME", help="window end (exclusive)")
    group.add_argument(
        "--hours",
        type=int,
        default=DEFAULT_HOURS,
        help="window length when a bound is missing; without bounds the window ends at the minute "
        "after the lake's newest event (default %(default)s)",
    )


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    """``query --named NAME`` and the window flags."""
    parser.add_argument("--named", metavar="NAME", help="run the named query infra/sql/queries/NAME.sql instead of SQL")
    add_window_arguments(parser)


def add_dashboard_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``dashboard`` command."""
    dashboard = commands.add_parser("dashboard", help="render the dashboard queries into one offline HTML file")
    dashboard.add_argument("--lake", type=Path, default=Path("lake/demo"), help="lake directory (default: lake/demo)")
    dashboard.add_argument(
        "-o", "--output", type=Path, default=Path("dashboard.html"), help="HTML file (default: dashboard.html)"
    )
    add_window_arguments(dashboard)


def run_query(args: argparse.Namespace) -> int:
    """``query --named NAME`` (cli.py runs plain SQL itself).

    Raises:
        ConfigError: both or neither of SQL and ``--named``, or a bad window. QueryError: the query fails.
    """
    from stream_processor.named_query import run_named_query
    from stream_processor.output import format_csv, format_json, format_table

    if (args.sql is None) == (args.named is None):
        raise ConfigError("give either SQL or --named NAME")
    if args.hours <= 0:
        raise ConfigError("--hours must be positive")
    result, window = run_named_query(args.lake, args.named, since=args.since, until=args.until, hours=args.hours)
    print(f"window: [{window.since}, {window.until}) UTC", file=sys.stderr)
    render = {"table": format_table, "json": format_json, "csv": format_csv}[args.format]
    text = render(result.columns, result.rows)
    if text:
        print(text)
    return 0


def run_dashboard(args: argparse.Namespace) -> int:
    """``dashboard``: write the HTML file and print its path.

    Raises:
        ConfigError: no lake or a bad window. QueryError: a query fails.
    """
    from stream_processor.dashboard.page import write_dashboard

    if args.hours <= 0:
        raise ConfigError("--hours must be positive")
    path = write_dashboard(args.lake, args.output, since=args.since, until=args.until, hours=args.hours)
    print(f"dashboard: {path}")
    return 0


__all__ = ["add_dashboard_parser", "add_query_arguments", "add_window_arguments", "run_dashboard", "run_query"]
