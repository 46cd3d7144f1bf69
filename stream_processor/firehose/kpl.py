"""Source stage, Kinesis: KPL-aggregated records into their user records, as Firehose does for a
Kinesis Data Streams source before invoking the transform (firehose-contract §2.1, §7).

Input: a ``SourceRecord`` holding a KPL aggregate. Output: one ``SourceRecord`` per user record, with
its partition key and the aggregate's arrival time. A corrupt aggregate is passed on whole, so the
transform fails it visibly instead of the twin dropping it.
"""

from __future__ import annotations

import base64

from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from stream_processor.sources.fixture import SourceRecord


def deaggregate_kinesis_record(record: SourceRecord) -> list[SourceRecord]:
    """The user records of an aggregated record (the record itself when it cannot be read)."""
    wire = {
        "SequenceNumber": "0",
        "PartitionKey": record.partition_key or "",
        "ApproximateArrivalTimestamp": record.arrival_ms,
        "Data": record.data,
    }
    try:
        users = list(iter_deaggregate_records(wire, data_format="Boto3"))
    except Exception:  # protobuf's own errors on a corrupt body
        return [record]
    if not users or not users[0]["kinesis"].get("aggregated"):
        return [record]
    return [
        SourceRecord(
            base64.b64decode(u["kinesis"]["data"]),
            record.arrival_ms,
            f"{record.origin}#{u['kinesis']['subSequenceNumber']}",
            u["kinesis"]["partitionKey"],
        )
        for u in users
    ]


__all__ = ["deaggregate_kinesis_record"]
