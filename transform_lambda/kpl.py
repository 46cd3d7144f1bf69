"""Decode helper for KPL-aggregated records: one Kinesis record packing many user records.

Input: raw record bytes. Output: the user records' data, in order. Firehose de-aggregates records of
a Kinesis source before invoking the Lambda, but a producer may put an aggregated record straight
into a Direct PUT stream; the transform then reads every sub-record itself (firehose-contract §7).
aws-kinesis-agg (and its protobuf) is imported only when an aggregated record is seen.
"""

from __future__ import annotations

import base64
from typing import Final

from transform_lambda.errors import DecodeError

# KPL aggregation magic bytes (awslabs/amazon-kinesis-producer aggregation-format.md).
KPL_MAGIC: Final = b"\xf3\x89\x9a\xc2"


def is_aggregated(raw: bytes | bytearray) -> bool:
    """Whether the bytes start with the KPL aggregation magic."""
    return raw[:4] == KPL_MAGIC


def deaggregate(raw: bytes) -> list[bytes]:
    """The user records' data of an aggregated record.

    Raises:
        DecodeError: ``invalid_kpl`` when the checksum or the protobuf body is wrong.
    """
    from aws_kinesis_agg.deaggregator import iter_deaggregate_records

    record = {"SequenceNumber": "0", "PartitionKey": "", "ApproximateArrivalTimestamp": 0, "Data": raw}
    try:
        users = list(iter_deaggregate_records(record, data_format="Boto3"))
    except Exception as exc:  # the library raises protobuf's own errors for a corrupt body
        raise DecodeError("invalid_kpl", type(exc).__name__) from exc
    if not users or not users[0]["kinesis"].get("aggregated"):
        # The library passes a record with a bad checksum through unchanged.
        raise DecodeError("invalid_kpl", "checksum mismatch")
    return [base64.b64decode(u["kinesis"]["data"]) for u in users]


__all__ = ["KPL_MAGIC", "deaggregate", "is_aggregated"]
