"""Scheduled compaction in Lambda: EventBridge Scheduler -> this handler -> ``Compactor`` on the S3 lake.

Input: the schedule's event (``{"lake": "s3://bucket/", "grace_minutes": 120, "target_size_mb": 256,
"partitions": ["src=*/dt=2025-11-23/*"]}``, every key optional; ``LAKE`` from the environment is the
default lake) and the Lambda context. Output: a JSON-ready summary. Partitions are compacted one at a
time while enough time is left; the rest waits for the next tick (a crash or timeout is repaired then,
from the manifest). infra/compaction.yaml deploys it with reserved concurrency 1: the one-writer lock.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from stream_processor.compact import GRACE_MINUTES_DEFAULT, TARGET_MB_DEFAULT, CompactionOptions, Compactor
from stream_processor.compact_merge import MIB, MergeOptions
from stream_processor.sinks.object_store import open_store

logger = logging.getLogger(__name__)
# Stop starting partitions when less than this is left of the 15-minute Lambda timeout.
RESERVE_MS: Final = 6 * 60_000


def lambda_handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """Recover, then compact closed partitions until the time reserve is reached."""
    lake = str(event.get("lake") or os.environ["LAKE"])
    merge = MergeOptions(
        target_bytes=int(event.get("target_size_mb", TARGET_MB_DEFAULT)) * MIB,
        row_group_bytes=int(event.get("row_group_mb", 64)) * MIB,
        id_memory_bytes=int(event.get("id_memory_mb", 256)) * MIB,
    )
    options = CompactionOptions(
        merge=merge,
        grace_minutes=int(event.get("grace_minutes", GRACE_MINUTES_DEFAULT)),
        partitions=tuple(event.get("partitions", ())),
    )
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    compactor = Compactor(open_store(lake), options, scratch=Path(os.environ.get("SCRATCH", "/tmp")))
    started = time.perf_counter()
    compactor.recover()
    work = compactor.plan()
    left = 0
    for n, (partition, files) in enumerate(work):
        if callable(remaining) and remaining() < RESERVE_MS:
            left = len(work) - n
            break
        compactor.report.partitions.append(compactor.compact_partition_or_report(partition, files))
    compactor.report.elapsed_s = time.perf_counter() - started
    summary = compactor.report.as_dict()
    summary["partitions_left"] = left
    summary["partitions_failed"] = [{"partition": p.partition, "error": p.error} for p in compactor.failed()]
    logger.info(
        "Compaction finished.",
        extra={"totals": summary["totals"], "partitions_left": left, "partitions_failed": len(compactor.failed())},
    )
    return summary


__all__ = ["lambda_handler"]
