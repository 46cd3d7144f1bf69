"""Output for people and scripts: query results as an aligned table, JSON lines or CSV, and the run
summary.

Input: column names and rows, or ``RunStats``. Output: text.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from stream_processor.pipeline import RunStats

_MAX_CELL = 80


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value).replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _jsonable(value: Any) -> Any:
    """A DuckDB value as JSON can carry it: decimals as numbers, NaN and infinities as null, times as
    ISO text, intervals as their text, blobs as hex, UUIDs as text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _jsonable(float(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, timedelta | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned text table with a header and a row count."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """One JSON object per row."""
    return "\n".join(json.dumps(_jsonable(dict(zip(columns, row, strict=True))), allow_nan=False) for row in rows)


def format_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([json.dumps(_jsonable(v)) if isinstance(v, dict | list) else _jsonable(v) for v in row])
    return buffer.getvalue().rstrip("\n")


def format_summary(stats: RunStats) -> str:
    """The run summary a person reads."""
    rate = stats.log_events_in / stats.elapsed_s if stats.elapsed_s > 0 else 0.0
    lines = [
        f"records in:        {stats.records_in:>10,}   ({stats.bytes_in:,} bytes, {stats.invocations} invocations)",
        f"  ok:              {stats.records_ok:>10,}",
        f"  dropped:         {stats.records_dropped:>10,}",
        f"  failed:          {stats.records_failed + stats.records_conversion_failed:>10,}"
        f"   (processing {stats.records_failed}, format conversion {stats.records_conversion_failed})",
        f"log events in:     {stats.log_events_in:>10,}",
        f"rows written:      {stats.rows_written:>10,}",
        f"  control events dropped: {stats.events_dropped_control:,}",
        f"  events in failed records: {stats.events_failed:,}",
        f"files written:     {stats.files_written:>10,}   ({stats.parquet_bytes:,} Parquet bytes;"
        f" {stats.error_files_written} error object{'s' if stats.error_files_written != 1 else ''})",
        f"elapsed:           {stats.elapsed_s:>10.3f} s   ({rate:,.0f} log events/s)",
        "conservation:      " + ("holds" if stats.conserved else "VIOLATED (log events were lost)"),
    ]
    if stats.reingested_records_in or stats.events_handed_back:
        lines.insert(
            -1,
            f"re-ingested:       {stats.reingested_records_in:>10,}   records came back into the stream"
            f" ({stats.reingested_events_in:,} of {stats.events_handed_back:,} log events handed back)",
        )
    if stats.records_skipped:
        lines.insert(
            0,
            f"resumed:           {stats.records_skipped:>10,}   input records were already delivered by an earlier run",
        )
    if stats.kpl_user_records:
        lines.insert(-1, f"KPL user records:  {stats.kpl_user_records:>10,}   (de-aggregated from Kinesis records)")
    if stats.failure_codes:
        codes = ", ".join(f"{code} x{n}" for code, n in sorted(stats.failure_codes.items()))
        lines.append(f"failure codes:     {codes}")
    if stats.contract_errors:
        lines.append(
            f"CONTRACT ERRORS:   {stats.contract_errors} batch(es) failed: the transform broke the Firehose contract"
        )
    return "\n".join(lines)


__all__ = ["format_csv", "format_json", "format_summary", "format_table"]
