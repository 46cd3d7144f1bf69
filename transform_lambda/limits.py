"""The record-API limits of Firehose and Kinesis Data Streams, in one place for every stage that
puts or accepts records (re-ingestion in the transform; replay and the local endpoint in the twin).

Input: nothing. Output: named constants with their source (firehose-contract §5).
"""

from __future__ import annotations

from typing import Final

# PutRecordBatch: at most 500 records and 4 MiB per call, 1,000 KiB per record before base64.
FIREHOSE_MAX_RECORDS: Final = 500
FIREHOSE_MAX_BATCH_BYTES: Final = 4 * 1024 * 1024
FIREHOSE_MAX_RECORD_BYTES: Final = 1000 * 1024
# PutRecords: at most 500 records and 5 MiB per call, 1 MiB per record including the partition key.
KINESIS_MAX_RECORDS: Final = 500
KINESIS_MAX_BATCH_BYTES: Final = 5 * 1024 * 1024
KINESIS_MAX_RECORD_BYTES: Final = 1024 * 1024

__all__ = [
    "FIREHOSE_MAX_BATCH_BYTES",
    "FIREHOSE_MAX_RECORDS",
    "FIREHOSE_MAX_RECORD_BYTES",
    "KINESIS_MAX_BATCH_BYTES",
    "KINESIS_MAX_RECORDS",
    "KINESIS_MAX_RECORD_BYTES",
]
