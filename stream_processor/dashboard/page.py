"""Dashboard page: every named query run on a local lake, rendered into one self-contained HTML file.

Input: a lake directory and a time window. Output: an HTML file with inline CSS and SVG charts
(``charts.py``), no script and nothing fetched at view time, so it opens offline. Each panel names
the query file it shows; the window is the one ``query --named`` would use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any, Final

from stream_processor.dashboard.charts import bar_chart, format_number, line_chart
from stream_processor.dashboard.style import CSS
from stream_processor.errors import SinkError
from stream_processor.named_query import DEFAULT_HOURS, Window, open_lake, resolve_window, run_sql_file
from stream_processor.query import QueryResult
from stream_processor.sql_catalog import SqlFile, load_catalog

TABLE_ROWS: Final = 12
LINE_SERIES: Final = 6

Chart = Callable[[QueryResult], str]


@dataclass(frozen=True, slots=True)
class Panel:
    """How one named query is shown: an optional chart, and its table (or not)."""

    query: str
    chart: Chart | None = None
    table: bool = True
    wide: bool = False


def _records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _time_series(result: QueryResult, series_key: str, value_key: str, limit: int = LINE_SERIES) -> str:
    """Lines per ``series_key``; beyond the ``limit`` busiest series the rest are summed as other."""
    totals: dict[str, float] = defaultdict(float)
    for r in _records(result):
        totals[str(r[series_key])] += float(r[value_key] or 0)
    keep = sorted(totals, key=lambda k: (-totals[k], k))[: limit - 1 if len(totals) > limit else limit]
    series: dict[str, dict[datetime, float]] = {k: defaultdict(float) for k in keep}
    for r in _records(result):
        name = str(r[series_key]) if str(r[series_key]) in series else "other"
        series.setdefault(name, defaultdict(float))[r["minute"]] += float(r[value_key] or 0)
    return line_chart({k: sorted(v.items()) for k, v in series.items()})


def _volume_chart(result: QueryResult) -> str:
    return _time_series(result, "log_group", "row_count")


def _error_rate_chart(result: QueryResult) -> str:
    rows: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for r in _records(result):
        rows[r["minute"]][0] += int(r["row_count"])
        rows[r["minute"]][1] += int(r["error_count"] or 0)
    return line_chart(
        {"error rate, all log groups": [(m, 100.0 * e / n) for m, (n, e) in sorted(rows.items())]}, unit="%"
    )


def _lag_chart(result: QueryResult) -> str:
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for r in _records(result):
        series[f"p95 {r['source']}"].append((r["minute"], float(r["p95_lag_s"] or 0)))
    return line_chart(dict(sorted(series.items())), unit="s")


def _bars(label: Callable[[dict[str, Any]], str], value: str, unit: str = "", color: int = 0) -> Chart:
    from stream_processor.dashboard.charts import PALETTE

    def chart(result: QueryResult) -> str:
        bars = [(label(r), float(r[value] or 0)) for r in _records(result)[:TABLE_ROWS]]
        return bar_chart(bars, unit=unit, color=PALETTE[color])

    return chart


PANELS: Final[tuple[Panel, ...]] = (
    Panel("log_volume", _volume_chart, table=False, wide=True),
    Panel("log_volume", _error_rate_chart, table=False),
    Panel("ingestion_lag", _lag_chart, table=False),
    Panel("lambda_performance", _bars(lambda r: str(r["function_name"]), "p95_duration_ms", " ms"), wide=True),
    Panel(
        "api_routes", _bars(lambda r: f"{r['http_method'] or ''} {r['route']}", "p95_latency_ms", " ms", 1), wide=True
    ),
    Panel("top_errors", None, wide=True),
    Panel("vpc_top_talkers", _bars(lambda r: f"{r['src_addr']} → {r['dst_addr']}", "bytes", "B", 2)),
    Panel("vpc_rejected", None),
    Panel("cloudtrail_access_denied", None, wide=True),
    Panel("cloudtrail_console_root", None, wide=True),
)


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="null">&ndash;</span>'
    if isinstance(value, datetime):
        return escape(value.strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(value, date):
        return escape(value.isoformat())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return escape(format_number(round(value, 4)))
    text = str(value)
    short = text if len(text) <= 90 else text[:89] + "…"
    return f'<span title="{escape(text)}">{escape(short)}</span>'


def render_table(result: QueryResult) -> str:
    """The first ``TABLE_ROWS`` rows as an HTML table (numbers right-aligned)."""
    if not result.rows:
        return '<p class="empty">No rows in this window.</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in result.columns)
    body = []
    for row in result.rows[:TABLE_ROWS]:
        cells = "".join(
            f'<td class="{"num" if isinstance(v, int | float) and not isinstance(v, bool) else ""}">{_cell(v)}</td>'
            for v in row
        )
        body.append(f"<tr>{cells}</tr>")
    more = len(result.rows) - TABLE_ROWS
    note = f'<p class="more">{more} more row(s): run the query to see all.</p>' if more > 0 else ""
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{note}'
    )


def _tiles(results: dict[str, QueryResult]) -> str:
    volume = _records(results["log_volume"])
    rows = sum(int(r["row_count"]) for r in volume)
    errors = sum(int(r["error_count"] or 0) for r in volume)
    invocations = sum(int(r["invocations"]) for r in _records(results["lambda_performance"]))
    requests = _records(results["api_routes"])
    api_5xx = sum(int(r["status_5xx"] or 0) for r in requests)
    lag = [float(r["p95_lag_s"]) for r in _records(results["ingestion_lag"]) if r["p95_lag_s"] is not None]
    denied = sum(int(r["attempts"]) for r in _records(results["cloudtrail_access_denied"]))
    tiles = (
        ("log events", format_number(rows)),
        ("error rate", f"{100.0 * errors / rows:.2f}%" if rows else "none"),
        ("Lambda invocations", format_number(invocations)),
        ("API 5xx", f"{api_5xx} / {format_number(sum(int(r['requests']) for r in requests))}"),
        ("worst p95 ingestion lag", f"{format_number(max(lag))} s" if lag else "none"),
        ("access denied", format_number(denied)),
    )
    return "".join(f'<div class="tile"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in tiles)


def render_page(lake: Path, window: Window, queries: Sequence[SqlFile], results: dict[str, QueryResult]) -> str:
    """The whole HTML document."""
    by_name = {q.name: q for q in queries}
    cards = []
    for panel in PANELS:
        query, result = by_name[panel.query], results[panel.query]
        chart = panel.chart(result) if panel.chart else ""
        table = render_table(result) if panel.table else ""
        title = query.title
        if panel.chart is _error_rate_chart:
            title = "Error rate per minute"
        elif panel.chart is _volume_chart:
            title = "Log events per minute, by log group"
        cards.append(
            f'<section class="card{" wide" if panel.wide else ""}" data-query="{escape(query.name)}">'
            f'<h2>{escape(title)}</h2><p class="desc">{escape(query.description)}</p>{chart}{table}'
            f'<p class="source">named query <code>{escape(query.name)}</code></p></section>'
        )
    span = f"{window.since:%Y-%m-%d %H:%M} \u2013 {window.until:%Y-%m-%d %H:%M} UTC"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>stream-processor dashboard</title><style>{CSS}</style></head><body>"
        f"<header><h1>stream-processor</h1><p>Log analytics over <code>{escape(str(lake))}</code>, "
        f"event time {escape(span)}</p></header>"
        f'<div class="tiles">{_tiles(results)}</div><main>{"".join(cards)}</main>'
        "<footer>The same SQL runs in Athena as named queries (infra/sql); rendered offline with DuckDB.</footer>"
        "</body></html>\n"
    )


def write_dashboard(
    lake: Path, output: Path, *, since: str | None = None, until: str | None = None, hours: int = DEFAULT_HOURS
) -> Path:
    """Run every dashboard query and write the HTML file; returns its path.

    Raises:
        ConfigError: no lake or a bad window. QueryError: a query fails. SinkError: cannot write.
    """
    _, queries = load_catalog()
    con, tables = open_lake(lake)
    try:
        window = resolve_window(con, since, until, hours)
        results = {q.name: run_sql_file(con, tables, q, window) for q in queries}
    finally:
        con.close()
    html = render_page(lake, window, queries, results)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise SinkError(f"{output}: cannot write ({exc.strerror})") from exc
    return output


__all__ = ["PANELS", "Panel", "render_page", "render_table", "write_dashboard"]
