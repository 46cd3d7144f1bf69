"""Scan report: bytes each named query reads from the Parquet lake versus the same rows as gzip NDJSON.

Input: a lake directory and a window. Output: a text table. The NDJSON copy (what Firehose would
deliver without record format conversion, gzip-compressed) keeps the lake's Hive layout, so both
sides get the same partition pruning; Parquet adds column pruning and typed encodings. Bytes come
from DuckDB's profiler (``io.total_bytes_read``, JSON output).

``python -m stream_processor.scan_report --lake DIR [--since T --until T | --hours N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from stream_processor.athena_sql import TableTypes, to_duckdb
from stream_processor.errors import ProcessorError
from stream_processor.named_query import DEFAULT_HOURS, Window, open_lake, resolve_window
from stream_processor.query import connect
from stream_processor.settings import DeliverySettings
from stream_processor.sql_catalog import SqlFile, load_catalog
from transform_lambda.schema import COLUMNS, PARTITION_KEYS

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
}


@dataclass(frozen=True, slots=True)
class ScanLine:
    """Bytes one query read from each format."""

    query: str
    parquet_bytes: int
    ndjson_gz_bytes: int


def export_ndjson(lake: Path, out: Path, settings: DeliverySettings) -> int:
    """Copy every Parquet file of the lake to ``out`` as gzip NDJSON at the same path; total bytes."""
    table_root = lake / settings.prefix.split("/", 1)[0]
    con = duckdb.connect(":memory:")
    total = 0
    for source in sorted(table_root.rglob(f"*{settings.file_extension}")):
        target = out / source.relative_to(lake).with_suffix(".json.gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        quoted_source, quoted_target = (str(p).replace("'", "''") for p in (source, target))
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{quoted_source}', hive_partitioning = false)) "
            f"TO '{quoted_target}' (FORMAT json, COMPRESSION gzip)"
        )
        total += target.stat().st_size
    con.close()
    return total


def _ndjson_connection(root: Path, settings: DeliverySettings) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": 1})
    con.execute("SET TimeZone = 'UTC'")
    columns = ", ".join(f"'{c.name}': '{_DUCKDB_TYPES[c.type]}'" for c in COLUMNS)
    hive = ", ".join(f"'{k.name}': VARCHAR" for k in PARTITION_KEYS)
    files = str(root / settings.prefix.split("/", 1)[0] / "**" / "*.json.gz").replace("'", "''")
    con.execute(f'CREATE SCHEMA "{settings.database}"')
    con.execute(
        f'CREATE VIEW "{settings.database}"."{settings.table}" AS SELECT * FROM read_ndjson(\'{files}\', '
        f"columns = {{{columns}}}, hive_partitioning = true, hive_types = {{{hive}}})"
    )
    return con


def bytes_read(con: duckdb.DuckDBPyConnection, tables: TableTypes, query: SqlFile, window: Window, work: Path) -> int:
    """``io.total_bytes_read`` of one named query, from DuckDB's JSON profile."""
    profile = work / f"{query.name}.profile.json"
    statement = to_duckdb(query.sql, window.values(query.parameters), tables)
    con.execute("SET enable_profiling = 'json'")
    con.execute(f"SET profiling_output = '{str(profile).replace(chr(39), chr(39) * 2)}'")
    con.execute(statement).fetchall()
    con.execute("RESET enable_profiling")
    return int(json.loads(profile.read_text(encoding="utf-8"))["io"]["total_bytes_read"])


def scan_report(
    lake: Path, since: str | None = None, until: str | None = None, hours: int = DEFAULT_HOURS
) -> tuple[Window, int, int, list[ScanLine]]:
    """(window, lake Parquet bytes, lake NDJSON.gz bytes, one line per named query).

    Raises:
        ConfigError: no lake or a bad window. QueryError: a query fails.
    """
    settings = DeliverySettings()
    _, queries = load_catalog()
    parquet_total = sum(p.stat().st_size for p in (lake / "logs").rglob(f"*{settings.file_extension}"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ndjson_total = export_ndjson(lake, work / "ndjson", settings)
        parquet, tables = open_lake(lake, settings, con=connect(lake, settings))
        ndjson, ndjson_tables = open_lake(lake, settings, con=_ndjson_connection(work / "ndjson", settings))
        try:
            window = resolve_window(parquet, since, until, hours)
            lines = [
                ScanLine(
                    q.name,
                    bytes_read(parquet, tables, q, window, work),
                    bytes_read(ndjson, ndjson_tables, q, window, work),
                )
                for q in queries
            ]
        finally:
            parquet.close()
            ndjson.close()
    return window, parquet_total, ndjson_total, lines


def format_report(window: Window, parquet_total: int, ndjson_total: int, lines: Sequence[ScanLine]) -> str:
    """The report as an aligned text table."""
    out = [
        f"window [{window.since}, {window.until}) UTC",
        f"whole lake: Parquet {parquet_total:,} B, gzip NDJSON {ndjson_total:,} B",
        f"{'query':<26}{'Parquet read':>15}{'NDJSON.gz read':>16}{'ratio':>8}{'of lake':>9}",
    ]
    for line in lines:
        ratio = line.ndjson_gz_bytes / line.parquet_bytes if line.parquet_bytes else float("inf")
        share = line.parquet_bytes / parquet_total if parquet_total else 0.0
        out.append(f"{line.query:<26}{line.parquet_bytes:>15,}{line.ndjson_gz_bytes:>16,}{ratio:>7.1f}x{share:>8.1%}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the scan report of a lake."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.scan_report", description=__doc__)
    parser.add_argument("--lake", type=Path, default=Path("lake/demo"))
    parser.add_argument("--since")
    parser.add_argument("--until")
    parser.add_argument("--hours", type=int, default=DEFAULT_HOURS)
    args = parser.parse_args(argv)
    try:
        report = scan_report(args.lake, args.since, args.until, args.hours)
    except ProcessorError as exc:
        sys.stderr.write(f"scan_report: {exc}\n")
        return exc.exit_code
    sys.stdout.write(format_report(*report) + "\n")
    return 0


__all__ = ["ScanLine", "bytes_read", "export_ndjson", "format_report", "main", "scan_report"]

if __name__ == "__main__":
    raise SystemExit(main())
