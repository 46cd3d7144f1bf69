"""Demo: example queries over a freshly run lake, printed for a person.

Input: a lake directory. Output: a few Athena-dialect queries and their results, as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from stream_processor.output import format_table
from stream_processor.query import run_query
from stream_processor.settings import DeliverySettings

EXAMPLES: Final[tuple[tuple[str, str], ...]] = (
    (
        "Rows per source and level",
        "SELECT source, level, count(*) AS row_count FROM log_events GROUP BY source, level ORDER BY source, level",
    ),
    (
        "Lambda invocations (REPORT lines) per function",
        "SELECT regexp_extract(log_group, '[^/]+$') AS function_name, count(*) AS invocations, "
        "round(avg(duration_ms), 2) AS avg_duration_ms, max(max_memory_used_mb) AS max_memory_mb, "
        "count_if(init_duration_ms IS NOT NULL) AS cold_starts "
        "FROM log_events WHERE source = 'lambda' AND duration_ms IS NOT NULL GROUP BY 1 ORDER BY 1",
    ),
    (
        "Latest errors",
        "SELECT event_time, log_group, substr(message, 1, 70) AS message FROM log_events "
        "WHERE level IN ('ERROR', 'FATAL') ORDER BY event_time DESC, event_id LIMIT 5",
    ),
    (
        "Partitions",
        "SELECT src, dt, hour, count(*) AS row_count FROM log_events GROUP BY src, dt, hour ORDER BY src, dt, hour",
    ),
)


def print_examples(lake: Path, settings: DeliverySettings) -> None:
    """Run and print each example query."""
    for title, sql in EXAMPLES:
        result = run_query(lake, sql, settings=settings)
        print(f"\n-- {title}\n{sql}\n")
        print(format_table(result.columns, result.rows))


__all__ = ["EXAMPLES", "print_examples"]
