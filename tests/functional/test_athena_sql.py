"""Athena (Trino) SQL on DuckDB: each known semantic gap, with Athena's answer worked out by hand."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from stream_processor.athena_sql import bind_parameters, to_duckdb
from stream_processor.query import QueryError

TABLES = {
    "main": {"t": {"a": "BIGINT", "b": "INTEGER", "d": "DOUBLE", "s": "VARCHAR", "x": "TIMESTAMP", "y": "TIMESTAMP"}}
}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        '(7, 2, 7.0, \'{"a": {"b": 1}, "c": "z"}\','
        " TIMESTAMP '2025-11-23 00:59:00', TIMESTAMP '2025-11-23 01:01:00'),"
        "(-7, 2, -7.0, 'not json', TIMESTAMP '2025-11-23 00:00:00', TIMESTAMP '2025-11-23 02:59:59')"
        ") AS v(a, b, d, s, x, y)"
    )
    return con


def athena(con: duckdb.DuckDBPyConnection, sql: str, *params: str) -> list[tuple[Any, ...]]:
    return con.execute(to_duckdb(sql, params, TABLES)).fetchall()


def test_transpile_integer_division_truncates_like_athena(con: duckdb.DuckDBPyConnection) -> None:
    # 7 / 2 = 3 and -7 / 2 = -3 (truncation toward zero); a double operand keeps the fraction.
    assert athena(con, "SELECT a / b, d / b FROM t ORDER BY a DESC") == [(3, 3.5), (-3, -3.5)]


def test_transpile_date_diff_counts_whole_units_elapsed(con: duckdb.DuckDBPyConnection) -> None:
    # 00:59 -> 01:01 is 0 whole hours (1 boundary crossed); 00:00 -> 02:59:59 is 2 hours, 179 minutes.
    rows = athena(con, "SELECT date_diff('hour', x, y), date_diff('minute', x, y) FROM t ORDER BY a DESC")
    assert rows == [(0, 2), (2, 179)]


def test_transpile_regexp_extract_without_match_is_null(con: duckdb.DuckDBPyConnection) -> None:
    rows = athena(
        con, "SELECT regexp_extract(s, 'c\": \"(.)', 1), regexp_extract(s, 'q(\\d+)', 1) FROM t ORDER BY a DESC"
    )
    assert rows == [("z", None), (None, None)]


def test_transpile_json_extract_scalar_on_object_or_bad_json_is_null(con: duckdb.DuckDBPyConnection) -> None:
    rows = athena(
        con,
        "SELECT json_extract_scalar(s, '$.a'), json_extract_scalar(s, '$.a.b'), json_extract_scalar(s, '$.c') "
        "FROM t ORDER BY a DESC",
    )
    assert rows == [(None, "1", "z"), (None, None, None)]


def test_transpile_count_if_over_nulls_is_zero(con: duckdb.DuckDBPyConnection) -> None:
    assert athena(con, "SELECT count_if(CAST(NULL AS boolean)), count_if(a > 0) FROM t") == [(0, 1)]


def test_transpile_approx_percentile_is_nearest_rank(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT approx_percentile(v, 0.5), approx_percentile(v, 0.9) FROM (VALUES 10, 20, 30, 40) AS t2(v)"
    assert athena(con, sql) == [(20, 40)]  # ranks ceil(0.5 * 4) = 2 and ceil(0.9 * 4) = 4


def test_transpile_parameters_bind_in_text_order_and_skip_strings() -> None:
    sql = "SELECT '?' AS q, ? AS a FROM t WHERE s = ? -- ?\n"
    assert bind_parameters(sql, ["it's", "b"]) == "SELECT '?' AS q, 'it''s' AS a FROM t WHERE s = 'b' -- ?\n"


def test_transpile_wrong_parameter_count_fails() -> None:
    with pytest.raises(QueryError, match="2 parameter"):
        to_duckdb("SELECT ? , ?", ["one"])
