"""Query: the lake through DuckDB, with the table under the name the Glue table has in Athena.

Input: a lake directory and SQL in Athena's (Trino) dialect. Output: column names and rows. The SQL
is transpiled with sqlglot (Trino -> DuckDB); the table is a view over the Hive-partitioned Parquet
files (``src``, ``dt``, ``hour`` as strings, as Glue declares them), in UTC like Athena.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
import sqlglot.errors

from stream_processor.errors import ConfigError, ProcessorError
from stream_processor.settings import DeliverySettings
from transform_lambda.schema import COLUMNS, PARTITION_KEYS

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
}


class QueryError(ProcessorError):
    """The SQL could not be transpiled or run."""


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def connect(lake: Path, settings: DeliverySettings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``<database>.<table>`` (and ``<table>``) over the lake.

    Raises:
        ConfigError: the lake directory does not exist. QueryError: a file of the lake cannot be read.
    """
    settings = settings or DeliverySettings()
    if not lake.is_dir():
        raise ConfigError(f"{lake}: no such lake directory (run `stream-processor run` first)")
    con = duckdb.connect(":memory:", config={"threads": 1})
    con.execute("SET TimeZone = 'UTC'")
    table_root = lake / settings.prefix.split("!{", 1)[0].split("/", 1)[0]
    pattern = f"*{settings.file_extension}"
    has_files = any(not p.name.startswith(".") for p in table_root.rglob(pattern))
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.database}"')
    if has_files:
        hive_types = ", ".join(f"'{k.name}': VARCHAR" for k in PARTITION_KEYS)
        file_list = "'" + str(table_root / "**" / pattern).replace("'", "''") + "'"
        columns = ", ".join(f'"{c.name}"' for c in (*COLUMNS, *PARTITION_KEYS))
        body = (
            f"SELECT {columns} FROM read_parquet({file_list}, hive_partitioning = true, "
            f"hive_types = {{{hive_types}}}, union_by_name = true)"
        )
    else:
        typed = ", ".join(f'CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS "{c.name}"' for c in (*COLUMNS, *PARTITION_KEYS))
        body = f"SELECT {typed} WHERE false"
    try:  # binding the view reads every file's footer: a damaged file fails here
        con.execute(f'CREATE VIEW "{settings.database}"."{settings.table}" AS {body}')
        con.execute(f'CREATE VIEW "{settings.table}" AS SELECT * FROM "{settings.database}"."{settings.table}"')
    except duckdb.Error as exc:
        con.close()
        raise QueryError(f"cannot read the lake: {str(exc).splitlines()[0]}") from exc
    return con


def to_duckdb_sql(sql: str) -> str:
    """Transpile Athena (Trino) SQL to DuckDB.

    Raises:
        QueryError: sqlglot cannot parse the SQL.
    """
    try:
        statements = sqlglot.transpile(sql, read="trino", write="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"cannot parse the SQL: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise QueryError("give exactly one SQL statement")
    return statements[0]


def run_query(
    lake: Path, sql: str, *, dialect: str = "athena", settings: DeliverySettings | None = None
) -> QueryResult:
    """Run one statement over the lake.

    Raises:
        ConfigError: no such lake. QueryError: the SQL is invalid or fails.
    """
    statement = to_duckdb_sql(sql) if dialect == "athena" else sql
    if not statement.strip():
        raise QueryError("give exactly one SQL statement")
    con = connect(lake, settings)
    try:
        cursor = con.execute(statement)
        columns = [d[0] for d in cursor.description or []]
        return QueryResult(columns, cursor.fetchall())
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()


__all__ = ["QueryError", "QueryResult", "connect", "run_query", "to_duckdb_sql"]
