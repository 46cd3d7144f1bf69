"""Re-ingestion: records that do not fit the 6 MB response go back into the stream they came from.

Input: ``ReingestItem`` (raw record bytes, the index of the record they belong to, a partition key).
Output: the indexes of records whose items could not all be put after bounded retries. Firehose
Direct PUT streams get ``PutRecordBatch`` to the stream in ``deliveryStreamArn``; streams with a
Kinesis source get ``PutRecords`` to ``sourceKinesisStreamArn`` (firehose-contract §2.7, §5). The
standard boto3 clients resolve endpoints and credentials the usual way (``AWS_ENDPOINT_URL``, …);
boto3 is imported only when something has to be re-ingested, so cold starts do not pay for it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

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

# One batch fits both APIs: 500 records and the smaller (Firehose's) byte limit.
MAX_BATCH_RECORDS: Final = min(FIREHOSE_MAX_RECORDS, KINESIS_MAX_RECORDS)
MAX_BATCH_BYTES: Final = min(FIREHOSE_MAX_BATCH_BYTES, KINESIS_MAX_BATCH_BYTES)
MAX_ATTEMPTS: Final = 6
BACKOFF_BASE_S: Final = 0.1
BACKOFF_CAP_S: Final = 2.0
# A call needs at most connect (5 s) + read (20 s) with botocore's own retries kept short; below
# this much time left, no call is started.
MIN_SECONDS_FOR_A_CALL: Final = 30.0


@dataclass(frozen=True, slots=True)
class ReingestItem:
    """One record to put back; ``owner`` is the index of the input record it stands for."""

    owner: int
    data: bytes
    partition_key: str | None = None


class Reingester(Protocol):
    """Puts items back into the source stream; returns the owners that could not be fully put."""

    def put(self, items: Sequence[ReingestItem]) -> set[int]: ...


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """Where re-ingested records go: a Firehose stream or a Kinesis stream, by name and region."""

    service: str  # "firehose" or "kinesis"
    name: str
    region: str


def target_from_event(event: Mapping[str, Any]) -> StreamTarget | None:
    """The stream to re-ingest into: the Kinesis source when there is one, else the delivery stream."""
    for key, service in (("sourceKinesisStreamArn", "kinesis"), ("deliveryStreamArn", "firehose")):
        arn = event.get(key)
        if isinstance(arn, str) and arn.count(":") >= 5:
            parts = arn.split(":", 5)
            if "/" not in parts[5]:
                continue
            name = parts[5].split("/", 1)[1]
            if parts[3] and name:
                return StreamTarget(service, name, parts[3])
    return None


class StreamReingester:
    """Re-ingests with boto3, batching within the API limits and retrying only failed entries."""

    def __init__(
        self,
        target: StreamTarget,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        deadline: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.target = target
        self.max_attempts = max_attempts
        self.deadline = deadline  # seconds left before the invocation must return
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._client: Any = None

    def put(self, items: Sequence[ReingestItem]) -> set[int]:
        """Put every item; returns owners with at least one item that could not be put."""
        limit = FIREHOSE_MAX_RECORD_BYTES if self.target.service == "firehose" else KINESIS_MAX_RECORD_BYTES
        failed: set[int] = set()
        sendable: list[ReingestItem] = []
        for item in items:
            size = len(item.data) + len((item.partition_key or "").encode())
            if size > limit:
                logger.error("Record too large to re-ingest.", extra={"bytes": size, "limit": limit})
                failed.add(item.owner)
            else:
                sendable.append(item)
        for chunk in _batches(sendable):
            failed |= self._put_with_retries(chunk)
        return failed

    def _put_with_retries(self, chunk: list[ReingestItem]) -> set[int]:
        def call_failed(attempt: int, exc: Exception) -> None:
            logger.warning("Re-ingestion call failed.", extra={"attempt": attempt, "error": type(exc).__name__})

        # Below MIN_SECONDS_FOR_A_CALL left, no call starts: the records fail (Firehose keeps them)
        # rather than the Lambda timeout cutting the call off and Firehose retrying the whole batch.
        pending = put_retrying(
            self._put_once,
            chunk,
            max_attempts=self.max_attempts,
            backoff_base_s=BACKOFF_BASE_S,
            backoff_cap_s=BACKOFF_CAP_S,
            sleep=self.sleep,
            rng=self.rng,
            time_left=self.deadline,
            min_call_s=MIN_SECONDS_FOR_A_CALL,
            on_call_error=call_failed,
        )
        if not pending:
            return set()
        logger.error("Records could not be re-ingested.", extra={"records": len(pending)})
        return {item.owner for item in pending}

    def _put_once(self, items: list[ReingestItem]) -> list[ReingestItem]:
        """One API call; returns the items whose entries failed."""
        entries = [(item.data, item.partition_key) for item in items]
        failed = put_once(self._client_for_target(), self.target.service, self.target.name, entries, "reingest")
        return [items[n] for n in failed]

    def _client_for_target(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=20)
            if self.target.service == "firehose":
                self._client = boto3.client("firehose", region_name=self.target.region, config=config)
            else:
                self._client = boto3.client("kinesis", region_name=self.target.region, config=config)
        return self._client


def _batches(items: Sequence[ReingestItem]) -> Iterator[list[ReingestItem]]:
    batch: list[ReingestItem] = []
    size = 0
    for item in items:
        item_size = len(item.data) + len((item.partition_key or "").encode())
        if batch and (len(batch) == MAX_BATCH_RECORDS or size + item_size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_RECORDS",
    "ReingestItem",
    "Reingester",
    "StreamReingester",
    "StreamTarget",
    "target_from_event",
]
