"""Run by test_compact.py in a subprocess with a capped address space (RLIMIT_AS).

argv: limit_bytes lake_dir mode; mode ``compact`` compacts the lake and prints
``rows_in rows_out duplicates``; mode ``naive`` reads the whole partition at once (expected to fail).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def main() -> None:
    limit, lake, mode = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    from stream_processor.compact import CompactionOptions, Compactor
    from stream_processor.compact_merge import MIB, MergeOptions
    from stream_processor.sinks.object_store import LocalStore

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if mode == "naive":
        pq.read_table(sorted(lake.rglob("*.parquet")))
        return
    options = CompactionOptions(merge=MergeOptions(256 * MIB, 4 * MIB, 8 * MIB))
    report = Compactor(LocalStore(lake), options, clock_ms=lambda: 1_900_000_000_000, scratch=lake.parent).run()
    totals = report.totals()
    print(totals["rows_in"], totals["rows_out"], totals["duplicates_removed"])


if __name__ == "__main__":
    main()
