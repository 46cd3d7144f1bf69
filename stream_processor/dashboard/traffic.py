"""Source stage for the demo dashboard: synthetic traffic (``stream_processor.generate``) replayed into a lake.

Input: a lake directory, a number of log events and a seed. Output: Parquet in the lake, through
the same transform and local Firehose as ``run``. Each record arrives a few seconds after its
newest log event (sometimes minutes, as when a subscription backs up), so the ingestion-lag panel
has something to show. ``make demo`` runs it before rendering the dashboard.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from stream_processor.errors import ProcessorError
from stream_processor.sources.fixture import SourceRecord

DEFAULT_EVENTS: Final = 100_000
LATE_RATE: Final = 0.03


def synthetic_records(events: int, seed: int = 1) -> Iterator[SourceRecord]:
    """Records of ``events`` generated log events, with arrival times after their newest event."""
    from stream_processor.generate import TrafficGenerator, record_bytes_of

    lag = random.Random(seed + 1)
    for payload in TrafficGenerator(seed=seed).payloads(events=events):
        newest = max(e["timestamp"] for e in payload["logEvents"])
        delay_ms = lag.randrange(300_000, 420_000) if lag.random() < LATE_RATE else lag.randrange(1_500, 40_000)
        yield SourceRecord(record_bytes_of(payload), newest + delay_ms, "synthetic")


def replay_synthetic(lake: Path, events: int = DEFAULT_EVENTS, seed: int = 1) -> int:
    """Run synthetic traffic into ``lake``; returns the rows written.

    Raises:
        ProcessorError: the run broke the Firehose contract or lost log events.
    """
    import os

    from stream_processor.errors import ContractError
    from stream_processor.pipeline import LocalFirehose
    from stream_processor.settings import DeliverySettings

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from transform_lambda.handler import lambda_handler

    # Firehose sees records in arrival order; the buffer's clock is the arrival time.
    records = sorted(synthetic_records(events, seed), key=lambda r: r.arrival_ms)
    newest_arrival = max((r.arrival_ms for r in records), default=0)
    stats = LocalFirehose(lake, DeliverySettings(), lambda_handler, clock_ms=lambda: newest_arrival).run(records)
    if stats.contract_errors or not stats.conserved:
        raise ContractError("Conservation", "synthetic traffic was not delivered whole")
    return stats.rows_written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stream_processor.dashboard.traffic --lake DIR [--events N] [--seed S]``."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.dashboard.traffic", description=__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        rows = replay_synthetic(args.lake, args.events, args.seed)
    except ProcessorError as exc:
        sys.stderr.write(f"traffic: {exc}\n")
        return exc.exit_code
    sys.stdout.write(f"synthetic traffic: {rows} rows into {args.lake}\n")
    return 0


__all__ = ["DEFAULT_EVENTS", "main", "replay_synthetic", "synthetic_records"]

if __name__ == "__main__":
    raise SystemExit(main())
