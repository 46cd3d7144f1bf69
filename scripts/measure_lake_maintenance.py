"""Measure backfill and compaction (the figures quoted in docs/backfill-and-compaction.md).

Usage: .venv/bin/python scripts/measure_lake_maintenance.py --lake DIR [--events N] [--work DIR]
- backfill: N synthetic events (stream_processor.generate) laid out as a CloudWatch Logs export,
  backfilled into a fresh lake; prints events/s (reading the export, transform, Parquet, writing).
- compaction: compacts a COPY of --lake (e.g. the demo lake) and prints files, bytes, MB/s and the
  bytes an Athena query reading three columns would fetch (footers + those column chunks), before
  and after, from the Parquet metadata.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import shutil
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from stream_processor.backfill import Backfill, BackfillOptions, export_units
from stream_processor.compact import CompactionOptions, Compactor
from stream_processor.generate import TrafficGenerator
from stream_processor.sinks.object_store import LocalStore
from stream_processor.sources.cloudwatch_export import ExportReadStats
from transform_lambda.config import TransformConfig
from transform_lambda.timefmt import iso_from_epoch_ms

QUERY_COLUMNS = ("event_time", "source", "level")


def lake_profile(root: Path) -> dict[str, float]:
    """Files, bytes, and the bytes a 3-column query reads (footer + those column chunks per file)."""
    files = [p for p in root.glob("logs/**/*.parquet") if not p.name.startswith(("_", "."))]
    total = query_bytes = 0
    for path in files:
        size = path.stat().st_size
        total += size
        meta = pq.ParquetFile(path).metadata
        footer = meta.serialized_size + 8  # footer + its length + magic
        chunks = 0
        for rg in range(meta.num_row_groups):
            group = meta.row_group(rg)
            for c in range(group.num_columns):
                column = group.column(c)
                if column.path_in_schema in QUERY_COLUMNS:
                    chunks += column.total_compressed_size
        query_bytes += footer + chunks
    partitions = {p.parent for p in files}
    return {
        "partitions": len(partitions),
        "files": len(files),
        "bytes": total,
        "query_bytes": query_bytes,
        "s3_gets_for_query": len(files) * (1 + len(QUERY_COLUMNS)),
    }


def measure_backfill(events: int, work: Path) -> dict[str, float]:
    streams: dict[tuple[str, str, str], list[tuple[int, str]]] = collections.defaultdict(list)
    for payload in TrafficGenerator(seed=7).payloads(events=events):
        if payload["messageType"] != "DATA_MESSAGE":
            continue
        key = (payload["owner"], payload["logGroup"], payload["logStream"])
        streams[key].extend((e["timestamp"], e["message"]) for e in payload["logEvents"])
    export = work / "export"
    owners = set()
    for (owner, group, stream), items in streams.items():
        owners.add(owner)
        folder = export / owner / urllib.parse.quote(group, safe="") / str(uuid.uuid5(uuid.NAMESPACE_URL, group))
        (folder / stream).mkdir(parents=True, exist_ok=True)
        text = "".join(f"{iso_from_epoch_ms(ts)} {message}\n" for ts, message in items)
        (folder / stream / "000000.gz").write_bytes(gzip.compress(text.encode(), compresslevel=6))
    lake = LocalStore(work / "backfill-lake")
    started = time.perf_counter()
    rows = files = n_events = 0
    for owner in sorted(owners):
        stats = Backfill(lake, f"export:{owner}", TransformConfig(), BackfillOptions(owner)).run(
            export_units(LocalStore(export / owner), None, ExportReadStats())
        )
        rows, files, n_events = rows + stats.rows_written, files + stats.files_written, n_events + stats.log_events_in
    elapsed = time.perf_counter() - started
    return {
        "events": n_events,
        "rows": rows,
        "files": files,
        "elapsed_s": round(elapsed, 2),
        "events_per_s": round(n_events / elapsed),
    }


def measure_compaction(lake: Path, work: Path) -> dict[str, object]:
    copy = work / "compact-lake"
    shutil.copytree(lake, copy)
    before = lake_profile(copy)
    started = time.perf_counter()
    report = Compactor(LocalStore(copy), CompactionOptions()).run()
    elapsed = time.perf_counter() - started
    after = lake_profile(copy)
    totals = report.totals()
    return {
        "before": before,
        "after": after,
        "duplicates_removed": totals["duplicates_removed"],
        "rows": totals["rows_out"],
        "elapsed_s": round(elapsed, 2),
        "mb_per_s": round(totals["bytes_before"] / 1e6 / elapsed, 1),
        "skipped_open": report.skipped_open,
        "skipped_single_file": report.skipped_small,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        results = {"backfill": measure_backfill(args.events, work), "compaction": measure_compaction(args.lake, work)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
