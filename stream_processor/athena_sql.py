"""Transpile stage for named queries: Athena (Trino) SQL into DuckDB SQL with Athena's semantics.

Input: one Trino statement, its ``?`` parameter values and the column types of the tables it reads.
Output: one DuckDB statement. Plain ``sqlglot.transpile`` keeps the syntax but not every meaning;
the gaps below (docs/dashboards.md) are closed by rewriting the syntax tree:

- ``int / int`` truncates in Trino: types are annotated from the schema, so sqlglot emits
  ``CAST(TRUNC(a / b) AS BIGINT)`` for integer operands;
- ``date_diff(unit, a, b)`` counts whole units elapsed in Trino, boundaries crossed in DuckDB: it
  becomes DuckDB's ``date_sub``;
- ``regexp_extract`` without a match is NULL in Trino, ``''`` in DuckDB: guarded by ``regexp_matches``;
- ``json_extract_scalar`` is NULL for objects, arrays and text that is not JSON in Trino; DuckDB
  returns the JSON text or raises: guarded by ``json_valid`` and ``json_type``;
- ``count_if`` over only NULL conditions is 0 in Trino, NULL in DuckDB: it becomes
  ``count(CASE WHEN cond THEN 1 END)``;
- ``approx_percentile`` becomes ``quantile_disc`` (nearest rank), so local answers are exact and
  reproducible; Athena's estimate equals it on small groups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
import sqlglot.errors
from sqlglot import TokenType, exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from stream_processor.query import QueryError

# Column types per table: {"database": {"table": {"column": "DuckDB type"}}}.
TableTypes = Mapping[str, Mapping[str, Mapping[str, str]]]


def bind_parameters(sql: str, values: Sequence[str]) -> str:
    """``sql`` with its ``?`` placeholders replaced, in text order, by string literals.

    Literals rather than bound parameters: DuckDB then prunes Hive partitions on folded constants.
    The tokenizer finds the placeholders, so a ``?`` inside a string or a comment is left alone.

    Raises:
        QueryError: the number of values differs from the number of placeholders.
    """
    tokens = sqlglot.Dialect.get_or_raise("trino").tokenize(sql)
    spots = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if len(spots) != len(values):
        raise QueryError(f"the query has {len(spots)} parameter(s), {len(values)} given")
    out, last = [], 0
    for token, value in zip(spots, values, strict=True):
        out += [sql[last : token.start], "'" + value.replace("'", "''") + "'"]
        last = token.end + 1
    return "".join([*out, sql[last:]])


def to_duckdb(sql: str, parameters: Sequence[str] = (), tables: TableTypes | None = None) -> str:
    """One Athena statement (a SELECT or a CREATE VIEW) as DuckDB SQL with Athena's semantics.

    Raises:
        QueryError: the SQL cannot be parsed, holds more than one statement, or names unknown columns.
    """
    try:
        trees = [t for t in sqlglot.parse(bind_parameters(sql, parameters), read="trino") if t is not None]
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"cannot parse the SQL: {str(exc).splitlines()[0]}") from exc
    if len(trees) != 1:
        raise QueryError("give exactly one SQL statement")
    tree = trees[0]
    query = tree.expression if isinstance(tree, exp.Create) else tree
    if isinstance(query, exp.Query) and tables is not None:
        schema = MappingSchema(
            {db: {t: dict(cols) for t, cols in ts.items()} for db, ts in tables.items()}, dialect="duckdb"
        )
        try:
            typed = annotate_types(
                qualify(query.copy(), schema=schema, dialect="trino"), schema=schema, dialect="trino"
            )
        except sqlglot.errors.OptimizeError as exc:
            raise QueryError(f"cannot resolve the query's columns: {exc}") from exc
        if isinstance(tree, exp.Create):
            tree.set("expression", typed)
        else:
            tree = typed
    # Children first, so a rewritten node is built from rewritten operands.
    for node in reversed(list(tree.walk(bfs=False))):
        replacement = _rewrite(node) if isinstance(node, exp.Expression) else node
        if replacement is not node:
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree.sql(dialect="duckdb")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DateDiff):
        unit = node.args.get("unit")
        unit_name = unit.name if unit is not None else "day"
        # DATE_DIFF(unit, a, b): sqlglot keeps b as ``this`` and a as ``expression``.
        return exp.Anonymous(
            this="date_sub", expressions=[exp.Literal.string(unit_name.lower()), node.expression, node.this]
        )
    if isinstance(node, exp.RegexpExtract):
        matches = exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
        return exp.Case(ifs=[exp.If(this=matches, true=node.copy())])
    if isinstance(node, exp.JSONExtractScalar):
        return _json_scalar(node)
    if isinstance(node, exp.CountIf):
        return exp.Count(this=exp.Case(ifs=[exp.If(this=node.this.copy(), true=exp.Literal.number(1))]))
    if isinstance(node, exp.ApproxQuantile):
        return exp.Anonymous(this="quantile_disc", expressions=[node.this, node.args["quantile"]])
    return node


def _json_scalar(node: exp.JSONExtractScalar) -> exp.Expression:
    document, path = node.this, node.expression
    path_sql = path.sql(dialect="duckdb") if isinstance(path, exp.Expression) else str(path)
    doc_sql = document.sql(dialect="duckdb")
    guard: Any = sqlglot.parse_one(
        # Nested CASEs: json_type raises on text that is not JSON, so it runs only on valid JSON.
        f"CASE WHEN json_valid({doc_sql}) THEN CASE WHEN json_type({doc_sql}, {path_sql}) NOT IN ('OBJECT', 'ARRAY') "
        f"THEN json_extract_string({doc_sql}, {path_sql}) END END",
        read="duckdb",
    )
    return guard  # type: ignore[no-any-return]


__all__ = ["TableTypes", "bind_parameters", "to_duckdb"]
