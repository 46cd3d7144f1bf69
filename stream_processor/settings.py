"""Delivery settings: the one place that names the stream, the table and the S3 layout.

Input: defaults (equal to what ``infra/`` deploys) overridden by flags. Output: a frozen
``DeliverySettings`` the twin, the query tool and the infra generator share. Field names copy the
Firehose settings they emulate, in snake_case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

STREAM_NAME: Final = "stream-processor"
DATABASE: Final = "stream_processor"
TABLE: Final = "log_events"
TABLE_PREFIX: Final = "logs/"
ERROR_PREFIX_ROOT: Final = "errors/"

# Dynamic partitioning on the keys the transform returns in metadata.partitionKeys; Hive-style
# so Athena partition projection (and DuckDB's hive_partitioning) find the partitions.
PREFIX: Final = (
    TABLE_PREFIX
    + "src=!{partitionKeyFromLambda:src}/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"
)
ERROR_OUTPUT_PREFIX: Final = ERROR_PREFIX_ROOT + "!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
FILE_EXTENSION: Final = ".parquet"

# Lambda processor buffer hints: ranges 0.2-3 MB and 0-900 s; AWS's defaults are 1 MB / 60 s
# (firehose-contract §2.4). Typed rows are about 6x the base64 request, so a 1 MB buffer overflows
# the 6 MB response and most records would bounce through re-ingestion (measured with the synthetic
# mix: 0% of records re-ingested at 0.25 MB, 20% at 0.5 MB, 129% at 1 MB). We deploy 0.25 MB.
PROCESSOR_BUFFER_SIZE_MB_AWS_DEFAULT: Final = 1.0
PROCESSOR_BUFFER_SIZE_MB_DEFAULT: Final = 0.25
PROCESSOR_BUFFER_SIZE_MB_RANGE: Final = (0.2, 3.0)
PROCESSOR_BUFFER_INTERVAL_S_DEFAULT: Final = 60
PROCESSOR_BUFFER_INTERVAL_S_RANGE: Final = (0, 900)
# S3 buffering hints with record format conversion: size >= 64 MiB, default 128; interval
# 0-900 s, default 300 (firehose-contract §4-5).
S3_BUFFER_SIZE_MB_DEFAULT: Final = 128
S3_BUFFER_SIZE_MB_RANGE: Final = (64, 128)
S3_BUFFER_INTERVAL_S_DEFAULT: Final = 300
S3_BUFFER_INTERVAL_S_RANGE: Final = (0, 900)
# Parquet as Firehose's ParquetSerDe writes it by default (firehose-contract §4).
PARQUET_COMPRESSION: Final = "snappy"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """The emulated delivery stream's configuration."""

    stream_name: str = STREAM_NAME
    region: str = "us-east-1"
    account_id: str = "123456789012"
    database: str = DATABASE
    table: str = TABLE
    prefix: str = PREFIX
    error_output_prefix: str = ERROR_OUTPUT_PREFIX
    file_extension: str = FILE_EXTENSION
    dynamic_partitioning: bool = True
    processor_buffer_size_mb: float = PROCESSOR_BUFFER_SIZE_MB_DEFAULT
    processor_buffer_interval_s: int = PROCESSOR_BUFFER_INTERVAL_S_DEFAULT
    s3_buffer_size_mb: int = S3_BUFFER_SIZE_MB_DEFAULT
    s3_buffer_interval_s: int = S3_BUFFER_INTERVAL_S_DEFAULT
    # When set, the stream reads from this Kinesis data stream instead of Direct PUT: records carry
    # kinesisRecordMetadata, KPL aggregates are de-aggregated before the transform, and the
    # transform re-ingests into the Kinesis stream.
    source_kinesis_stream: str | None = None

    @property
    def delivery_stream_arn(self) -> str:
        """The ARN the transform sees in ``deliveryStreamArn``."""
        return f"arn:aws:firehose:{self.region}:{self.account_id}:deliverystream/{self.stream_name}"

    @property
    def source_kinesis_stream_arn(self) -> str | None:
        """The ARN the transform sees in ``sourceKinesisStreamArn`` (None for Direct PUT)."""
        if self.source_kinesis_stream is None:
            return None
        return f"arn:aws:kinesis:{self.region}:{self.account_id}:stream/{self.source_kinesis_stream}"

    @property
    def lambda_arn(self) -> str:
        """The transform function's ARN as error documents name it."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.stream_name}-transform"


__all__ = [
    "DATABASE",
    "ERROR_OUTPUT_PREFIX",
    "FILE_EXTENSION",
    "PREFIX",
    "STREAM_NAME",
    "TABLE",
    "TABLE_PREFIX",
    "DeliverySettings",
]
