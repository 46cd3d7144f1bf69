"""Named queries, offline: the Athena views and queries of ``infra/sql`` run on a local lake by DuckDB.

Input: a lake directory, a query name and a time window. Output: ``QueryResult``. The views are
created in the DuckDB catalog under the names Athena has (``stream_processor.<view>``); each ``?``
of a query is bound to the window bound its header names (``since``/``until``, UTC, the window is
``[since, until)``). Without a window, the lake's last ``hours`` hours are used, ending at the
minute after its newest event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import duckdb

from stream_processor.athena_sql import TableTypes, to_duckdb
from stream_processor.errors import ConfigError
from stream_processor.query import QueryError, QueryResult, connect
from stream_processor.settings import DeliverySettings
from stream_processor.sql_catalog import SQL_DIR, WINDOW_PARAMETERS, SqlFile, find_query, load_catalog

DEFAULT_HOURS: Final = 24
# Athena's timestamp literal format, accepted by CAST(? AS timestamp) in Trino and DuckDB.
TIMESTAMP_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
_INPUT_FORMATS: Final = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class Window:
    """An event-time window ``[since, until)`` in UTC (naive datetimes)."""

    since: datetime
    until: datetime

    def values(self, names: tuple[str, ...]) -> list[str]:
        """The parameter values for a query whose ``?`` are named ``names``.

        Raises:
            ConfigError: a name is neither ``since`` nor ``until``.
        """
        bounds = {"since": self.since, "until": self.until}
        unknown = sorted(set(names) - set(bounds))
        if unknown:
            raise ConfigError(f"unknown query parameter(s) {', '.join(unknown)} (known: {', '.join(bounds)})")
        return [bounds[name].strftime(TIMESTAMP_FORMAT) for name in names]


def parse_time(text: str) -> datetime:
    """``2025-11-23``, ``2025-11-23T10:00[:00][Z]`` or ``2025-11-23 10:00:00`` as a naive UTC datetime.

    Raises:
        ConfigError: another format.
    """
    cleaned = text.strip().removesuffix("Z").removesuffix("+00:00")
    for fmt in _INPUT_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    raise ConfigError(f"{text!r}: expected a UTC time like 2025-11-23T10:00:00Z")


def open_lake(
    lake: Path,
    settings: DeliverySettings | None = None,
    sql_dir: Path = SQL_DIR,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[duckdb.DuckDBPyConnection, TableTypes]:
    """DuckDB over the lake with every view of ``infra/sql/views``, and the column types of each table.

    ``con``, when given, already holds the table (``scan_report`` passes one over NDJSON).

    Raises:
        ConfigError: no lake, or a malformed SQL file. QueryError: a view fails to transpile or create.
    """
    settings = settings or DeliverySettings()
    con = con or connect(lake, settings)
    tables: dict[str, dict[str, dict[str, str]]] = {settings.database: {}}
    tables[settings.database][settings.table] = _column_types(con, settings.database, settings.table)
    views, _ = load_catalog(sql_dir)
    for view in views:
        try:
            con.execute(to_duckdb(view.sql, (), tables))
        except duckdb.Error as exc:
            con.close()
            raise QueryError(f"view {view.name}: {str(exc).splitlines()[0]}") from exc
        tables[settings.database][view.name] = _column_types(con, settings.database, view.name)
    return con, tables


def _column_types(con: duckdb.DuckDBPyConnection, database: str, table: str) -> dict[str, str]:
    rows = con.execute(f'DESCRIBE "{database}"."{table}"').fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def default_window(
    con: duckdb.DuckDBPyConnection, hours: int = DEFAULT_HOURS, settings: DeliverySettings | None = None
) -> Window:
    """The last ``hours`` hours of the lake, ending at the minute after its newest event.

    Raises:
        ConfigError: the lake has no rows (then the window must be given).
    """
    settings = settings or DeliverySettings()
    table = f'"{settings.database}"."{settings.table}"'
    newest_partition = con.execute(f"SELECT max(concat(dt, ' ', hour)) FROM {table}").fetchone()
    if newest_partition is None or newest_partition[0] is None:
        raise ConfigError("the lake has no rows: give the window with --since and --until")
    # A record's rows sit in the partition of its earliest event, so later events of the newest
    # partition's records can only be in it or the one before.
    floor = datetime.strptime(str(newest_partition[0]), "%Y-%m-%d %H") - timedelta(hours=1)
    newest = con.execute(
        f"SELECT max(event_time) FROM {table} WHERE concat(dt, ' ', hour) >= ?", [floor.strftime("%Y-%m-%d %H")]
    ).fetchone()
    last: datetime = newest[0] if newest and newest[0] is not None else floor
    until = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return Window(until - timedelta(hours=hours), until)


def run_sql_file(con: duckdb.DuckDBPyConnection, tables: TableTypes, query: SqlFile, window: Window) -> QueryResult:
    """Run one named query on an open lake.

    Raises:
        QueryError: the query fails. ConfigError: its parameters are not window bounds.
    """
    statement = to_duckdb(query.sql, window.values(query.parameters), tables)
    try:
        cursor = con.execute(statement)
        columns = [d[0] for d in cursor.description or []]
        return QueryResult(columns, cursor.fetchall())
    except duckdb.Error as exc:
        raise QueryError(f"{query.name}: {str(exc).splitlines()[0]}") from exc


def resolve_window(
    con: duckdb.DuckDBPyConnection, since: str | None, until: str | None, hours: int = DEFAULT_HOURS
) -> Window:
    """The window from ``--since``/``--until``/``--hours``: a missing bound is ``hours`` from the other.

    Raises:
        ConfigError: a bad time, or ``since`` not before ``until``.
    """
    if since is None and until is None:
        return default_window(con, hours)
    span = timedelta(hours=hours)
    start = parse_time(since) if since is not None else None
    end = parse_time(until) if until is not None else None
    window = Window(start or (end - span if end else datetime.min), end or (start + span if start else datetime.max))
    if window.since >= window.until:
        raise ConfigError("--since must be before --until")
    return window


def run_named_query(
    lake: Path,
    name: str,
    *,
    since: str | None = None,
    until: str | None = None,
    hours: int = DEFAULT_HOURS,
    sql_dir: Path = SQL_DIR,
) -> tuple[QueryResult, Window]:
    """Run the named query ``name`` on the lake, over the given or default window.

    Raises:
        ConfigError: no lake, no such query, a bad window. QueryError: the query fails.
    """
    query = find_query(name, sql_dir)
    con, tables = open_lake(lake, sql_dir=sql_dir)
    try:
        window = resolve_window(con, since, until, hours)
        return run_sql_file(con, tables, query, window), window
    finally:
        con.close()


__all__ = [
    "DEFAULT_HOURS",
    "TIMESTAMP_FORMAT",
    "WINDOW_PARAMETERS",
    "Window",
    "default_window",
    "open_lake",
    "parse_time",
    "resolve_window",
    "run_named_query",
    "run_sql_file",
]
