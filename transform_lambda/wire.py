"""Wire shapes of the Firehose transformation contract and the CloudWatch Logs payload.

Input/output: JSON as AWS sends and expects it, typed with ``TypedDict`` in AWS's camelCase.
Used only at the edges (handler, decode, the local twin); see firehose-contract §1-2.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class KinesisRecordMetadata(TypedDict, total=False):
    shardId: str
    partitionKey: str
    approximateArrivalTimestamp: int | str
    sequenceNumber: str
    subsequenceNumber: int | str


class FirehoseRecord(TypedDict):
    recordId: str
    data: str
    approximateArrivalTimestamp: NotRequired[int]
    kinesisRecordMetadata: NotRequired[KinesisRecordMetadata]


class FirehoseEvent(TypedDict):
    invocationId: str
    deliveryStreamArn: str
    region: str
    records: list[FirehoseRecord]
    sourceKinesisStreamArn: NotRequired[str]


ResultValue = Literal["Ok", "Dropped", "ProcessingFailed"]


class ResponseMetadata(TypedDict):
    partitionKeys: dict[str, str]


class ResponseRecord(TypedDict):
    recordId: str
    result: ResultValue
    data: NotRequired[str]
    metadata: NotRequired[ResponseMetadata]


class FirehoseResponse(TypedDict):
    records: list[ResponseRecord]


class CwlLogEvent(TypedDict):
    id: str
    timestamp: int
    message: str
    extractedFields: NotRequired[dict[str, str]]


class CwlPayload(TypedDict):
    messageType: str
    owner: str
    logGroup: str
    logStream: str
    subscriptionFilters: list[str]
    logEvents: list[CwlLogEvent]
    policyLevel: NotRequired[str]
    # Ours, not CloudWatch's: the source a split record's re-ingested chunks keep (decode.SOURCE_HINT_KEY).
    streamProcessorSource: NotRequired[str]


__all__ = [
    "CwlLogEvent",
    "CwlPayload",
    "FirehoseEvent",
    "FirehoseRecord",
    "FirehoseResponse",
    "KinesisRecordMetadata",
    "ResponseMetadata",
    "ResponseRecord",
    "ResultValue",
]
