"""Sink stage, stream APIs: records into a Firehose stream (``PutRecordBatch``) or a Kinesis data
stream (``PutRecords``, optionally KPL-aggregated), for ``replay``.

Input: ``OutgoingRecord`` items and a boto3 client. Output: the records that could not be put after
bounded retries of only the failed entries, with jittered exponential backoff (the same call and
retry loop as the transform's re-ingestion: ``transform_lambda.stream_put``), and counts of calls
and retried entries.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from transform_lambda.limits import (
    FIREHOSE_MAX_BATCH_BYTES,
    FIREHOSE_MAX_RECORD_BYTES,
    FIREHOSE_MAX_RECORDS,
    KINESIS_MAX_BATCH_BYTES,
    KINESIS_MAX_RECORD_BYTES,
    KINESIS_MAX_RECORDS,
)
from transform_lambda.stream_put import put_once, put_retrying

logger = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 8
BACKOFF_BASE_S: Final = 0.1
BACKOFF_CAP_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """One record to put; ``members`` are the input records it carries (several when KPL-aggregated)."""

    data: bytes
    partition_key: str | None = None
    members: tuple[bytes, ...] = ()
    events: int = 0

    @property
    def originals(self) -> tuple[bytes, ...]:
        """The input records to report when this one cannot be put."""
        return self.members or (self.data,)


@dataclass(slots=True)
class PutCounts:
    """Calls made and entries retried."""

    calls: int = 0
    failed_calls: int = 0
    retried_entries: int = 0


class StreamApiSink:
    """Puts records with ``PutRecordBatch`` (service ``firehose``) or ``PutRecords`` (``kinesis``)."""

    def __init__(
        self,
        service: str,
        stream: str,
        client: Any,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.service = service
        self.stream = stream
        self.client = client
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.counts = PutCounts()
        firehose = service == "firehose"
        self.max_records = FIREHOSE_MAX_RECORDS if firehose else KINESIS_MAX_RECORDS
        self.max_batch_bytes = FIREHOSE_MAX_BATCH_BYTES if firehose else KINESIS_MAX_BATCH_BYTES
        self.max_record_bytes = FIREHOSE_MAX_RECORD_BYTES if firehose else KINESIS_MAX_RECORD_BYTES

    def size_of(self, record: OutgoingRecord) -> int:
        """Bytes a record counts against the limits (Kinesis counts the partition key too)."""
        key = 0 if self.service == "firehose" else len((record.partition_key or "").encode())
        return len(record.data) + key

    def batches(
        self, records: Iterable[OutgoingRecord], max_events: int | None = None
    ) -> Iterator[list[OutgoingRecord]]:
        """Records grouped within the call limits (and at most ``max_events`` log events, for pacing)."""
        batch: list[OutgoingRecord] = []
        size = events = 0
        for record in records:
            item = self.size_of(record)
            full = len(batch) == self.max_records or size + item > self.max_batch_bytes
            if batch and (full or (max_events is not None and events + record.events > max_events)):
                yield batch
                batch, size, events = [], 0, 0
            batch.append(record)
            size += item
            events += record.events
        if batch:
            yield batch

    def put(self, records: Sequence[OutgoingRecord]) -> list[OutgoingRecord]:
        """Put one batch; returns the records that could not be put (oversized ones without trying)."""
        failed = [r for r in records if self.size_of(r) > self.max_record_bytes]
        pending = [r for r in records if self.size_of(r) <= self.max_record_bytes]
        if not pending:
            return failed

        def retried(entries: int) -> None:
            self.counts.retried_entries += entries

        def call_failed(attempt: int, exc: Exception) -> None:
            self.counts.failed_calls += 1
            logger.warning("Put call failed.", extra={"attempt": attempt, "error": type(exc).__name__})

        pending = put_retrying(
            self._put_once,
            pending,
            max_attempts=self.max_attempts,
            backoff_base_s=BACKOFF_BASE_S,
            backoff_cap_s=BACKOFF_CAP_S,
            sleep=self.sleep,
            rng=self.rng,
            on_retry=retried,
            on_call_error=call_failed,
        )
        return failed + pending

    def _put_once(self, records: list[OutgoingRecord]) -> list[OutgoingRecord]:
        self.counts.calls += 1
        entries = [(r.data, r.partition_key) for r in records]
        return [records[n] for n in put_once(self.client, self.service, self.stream, entries, "replay")]


def aggregate_records(records: Iterable[OutgoingRecord]) -> Iterator[OutgoingRecord]:
    """KPL-aggregate records (aws-kinesis-agg), each aggregate within the 1 MiB Kinesis record limit."""
    from aws_kinesis_agg.aggregator import RecordAggregator

    aggregator = RecordAggregator()
    members: list[OutgoingRecord] = []
    for record in records:
        members.append(record)
        full = aggregator.add_user_record(record.partition_key or "replay", record.data)
        if full is not None:
            n = full.get_num_user_records()
            yield _aggregate(full, members[:n])
            members = members[n:]
    rest = aggregator.clear_and_get()
    if rest is not None and rest.get_num_user_records():
        yield _aggregate(rest, members)


def _aggregate(agg: Any, members: list[OutgoingRecord]) -> OutgoingRecord:
    key, _hash_key, data = agg.get_contents()
    return OutgoingRecord(data, key, tuple(m.data for m in members), sum(m.events for m in members))


__all__ = ["OutgoingRecord", "PutCounts", "StreamApiSink", "aggregate_records"]
