"""Catalog of the Athena SQL files: the views and named queries under ``infra/sql``.

Input: ``infra/sql/views/*.sql`` (one ``CREATE OR REPLACE VIEW``) and ``infra/sql/queries/*.sql``
(one ``SELECT``), each opened by ``-- key: value`` header lines (``title``, ``description``, and for
queries ``parameters``: the name of each ``?`` in text order). Output: ``SqlFile`` items. The files
are the single source: the local runner, the dashboard and the infra generator all read them here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from stream_processor.errors import ConfigError

SQL_DIR: Final = Path(__file__).resolve().parent.parent / "infra" / "sql"
# The parameters every named query takes, in this order of first use (docs/dashboards.md).
WINDOW_PARAMETERS: Final = ("since", "until")

_HEADER = re.compile(r"^--\s*(?P<key>[a-z]+):\s*(?P<value>.*\S)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Kind = Literal["view", "query"]


@dataclass(frozen=True, slots=True)
class SqlFile:
    """One view or named query: its name (the file stem), header and SQL text."""

    name: str
    kind: Kind
    title: str
    description: str
    parameters: tuple[str, ...]
    sql: str
    path: Path


def read_sql_file(path: Path, kind: Kind) -> SqlFile:
    """Parse one SQL file and its header.

    Raises:
        ConfigError: the name is not snake_case, or a header line (title, description) is missing.
    """
    if not _NAME.match(path.stem):
        raise ConfigError(f"{path}: SQL file names are snake_case")
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in text.splitlines():
        match = _HEADER.match(line)
        if not match:
            break
        header[match.group("key")] = match.group("value")
    missing = [key for key in ("title", "description") if key not in header]
    if missing:
        raise ConfigError(f"{path}: header line(s) missing: {', '.join(missing)}")
    parameters = tuple(p.strip() for p in header.get("parameters", "").split(",") if p.strip())
    return SqlFile(path.stem, kind, header["title"], header["description"], parameters, text, path)


def load_catalog(sql_dir: Path = SQL_DIR) -> tuple[tuple[SqlFile, ...], tuple[SqlFile, ...]]:
    """(views, queries), each sorted by name.

    Raises:
        ConfigError: a file is malformed.
    """
    views = tuple(read_sql_file(p, "view") for p in sorted((sql_dir / "views").glob("*.sql")))
    queries = tuple(read_sql_file(p, "query") for p in sorted((sql_dir / "queries").glob("*.sql")))
    return views, queries


def find_query(name: str, sql_dir: Path = SQL_DIR) -> SqlFile:
    """The named query called ``name``.

    Raises:
        ConfigError: no such query.
    """
    _, queries = load_catalog(sql_dir)
    for query in queries:
        if query.name == name:
            return query
    known = ", ".join(q.name for q in queries)
    raise ConfigError(f"no named query {name!r} (known: {known})")


__all__ = ["SQL_DIR", "WINDOW_PARAMETERS", "Kind", "SqlFile", "find_query", "load_catalog", "read_sql_file"]
