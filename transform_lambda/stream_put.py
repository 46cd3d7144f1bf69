"""Put stage, stream APIs: one call of Firehose ``PutRecordBatch`` or Kinesis ``PutRecords``, and
retries of only the entries that failed, with jittered exponential backoff.

Input: a boto3 client (or anything with the same two methods), the stream, and entries (bytes and an
optional partition key). Output: the entries that were not put. Used by the transform's
re-ingestion (``reingest``) and by ``replay`` (``stream_processor.sinks.stream_api``); neither keeps a
copy of this loop. boto3 itself is not imported here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


Entry = tuple[bytes, str | None]  # data and partition key (Kinesis)


def put_once(client: Any, service: str, stream: str, entries: Sequence[Entry], key: str) -> list[int]:
    """One ``PutRecordBatch`` (``service`` "firehose") or ``PutRecords`` (any other) call; returns the
    positions of the entries that failed. A Kinesis entry without a partition key gets ``key``."""
    if service == "firehose":
        response = client.put_record_batch(DeliveryStreamName=stream, Records=[{"Data": d} for d, _ in entries])
        results, failed = response["RequestResponses"], response.get("FailedPutCount", 0)
    else:
        records = [{"Data": d, "PartitionKey": k or key} for d, k in entries]
        response = client.put_records(StreamName=stream, Records=records)
        results, failed = response["Records"], response.get("FailedRecordCount", 0)
    if not failed:
        return []
    return [n for n, result in enumerate(results) if result.get("ErrorCode")]


def put_retrying(
    send: Callable[[list[T]], list[T]],
    items: list[T],
    *,
    max_attempts: int,
    backoff_base_s: float,
    backoff_cap_s: float,
    sleep: Callable[[float], None],
    rng: random.Random,
    time_left: Callable[[], float] | None = None,
    min_call_s: float = 0.0,
    on_retry: Callable[[int], None] | None = None,
    on_call_error: Callable[[int, Exception], None] | None = None,
) -> list[T]:
    """Call ``send`` (one API call; it returns the items whose entries failed) until nothing is
    left, ``max_attempts`` calls were made, or (with ``time_left``, in seconds) too little time is
    left for another call and its backoff. Returns the items still not put.

    A call that raises counts as one attempt (botocore has retried it already); ``on_retry`` gets the
    number of items each retry sends again, ``on_call_error`` each failed call."""
    pending = items
    for attempt in range(1, max_attempts + 1):
        if time_left is not None and time_left() < min_call_s:
            break
        if attempt > 1 and on_retry is not None:
            on_retry(len(pending))
        try:
            pending = send(pending)
        except Exception as exc:
            if on_call_error is not None:
                on_call_error(attempt, exc)
        else:
            if not pending:
                return []
        if attempt == max_attempts:
            break
        delay = rng.uniform(0, min(backoff_cap_s, backoff_base_s * 2 ** (attempt - 1)))
        if time_left is not None and time_left() < delay + 1.0:
            break
        sleep(delay)
    return pending


__all__ = ["Entry", "put_once", "put_retrying"]
