"""Schema: the one definition of the Glue table's columns and partition keys.

Input: nothing. Output: ``COLUMNS`` and ``PARTITION_KEYS`` (ordered ``Column`` items with Hive
type strings). Row shaping, the local Parquet converter and the Glue table in ``infra/`` all
derive from this module; no other module spells a column list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

# A value of one column before encoding: text, numbers, the ``fields`` map; timestamps are ISO-8601
# text (``timefmt``). None is what a reader returns for an absent value; rows never hold it.
ColumnValue: TypeAlias = str | int | float | dict[str, str] | None


@dataclass(frozen=True, slots=True)
class Column:
    """One Glue column: its name, Hive type string and a short description."""

    name: str
    type: str
    comment: str = ""


TIMESTAMP: Final = "timestamp"
STRING: Final = "string"
INT: Final = "int"
BIGINT: Final = "bigint"
DOUBLE: Final = "double"
STRING_MAP: Final = "map<string,string>"

COLUMNS: Final[tuple[Column, ...]] = (
    # Identity and envelope: every row has these (nulls are omitted from the JSON row).
    Column("event_time", TIMESTAMP, "log event timestamp (UTC)"),
    Column("arrival_time", TIMESTAMP, "when Firehose received the record (UTC)"),
    Column("event_id", STRING, "CloudWatch Logs event id; the dedupe key"),
    Column("account_id", STRING, "owner account of the log group"),
    Column("log_group", STRING, "source log group"),
    Column("log_stream", STRING, "source log stream"),
    Column("source", STRING, "detected kind of log: lambda, vpc_flow, apigateway, cloudtrail, json, text"),
    Column("level", STRING, "normalized level: TRACE DEBUG INFO WARN ERROR FATAL"),
    Column("message", STRING, "raw message, trailing newline stripped"),
    Column("request_id", STRING, "request id (Lambda, API Gateway, app logs)"),
    Column("trace_id", STRING, "X-Ray or other trace id"),
    Column("parse_error", STRING, "what a parser could not handle; null when the row parsed cleanly"),
    # Lambda platform lines (REPORT, platform.report).
    Column("duration_ms", DOUBLE, "Lambda invocation duration"),
    Column("billed_duration_ms", BIGINT, "Lambda billed duration"),
    Column("memory_size_mb", INT, "Lambda configured memory"),
    Column("max_memory_used_mb", INT, "Lambda peak memory"),
    Column("init_duration_ms", DOUBLE, "Lambda init duration (cold starts only)"),
    # VPC Flow Logs.
    Column("interface_id", STRING, "ENI id"),
    Column("src_addr", STRING, "source address"),
    Column("dst_addr", STRING, "destination address"),
    Column("src_port", INT, "source port"),
    Column("dst_port", INT, "destination port"),
    Column("protocol", INT, "IANA protocol number"),
    Column("packets", BIGINT, "packets in the flow window"),
    Column("bytes", BIGINT, "bytes in the flow window"),
    Column("flow_start", TIMESTAMP, "start of the flow window"),
    Column("flow_end", TIMESTAMP, "end of the flow window"),
    Column("action", STRING, "ACCEPT or REJECT"),
    Column("log_status", STRING, "OK, NODATA or SKIPDATA"),
    # API Gateway access logs.
    Column("http_method", STRING, "HTTP method"),
    Column("status_code", INT, "HTTP status"),
    Column("route", STRING, "resource path or route key"),
    Column("path", STRING, "request path"),
    Column("source_ip", STRING, "client address (API Gateway, CloudTrail)"),
    Column("latency_ms", DOUBLE, "response latency"),
    Column("integration_latency_ms", DOUBLE, "integration latency"),
    Column("response_length", BIGINT, "response body bytes"),
    # CloudTrail.
    Column("event_name", STRING, "CloudTrail eventName"),
    Column("event_source", STRING, "CloudTrail eventSource"),
    Column("aws_region", STRING, "CloudTrail awsRegion"),
    Column("user_arn", STRING, "CloudTrail userIdentity.arn"),
    Column("error_code", STRING, "CloudTrail errorCode"),
    # Everything else a parser found, as strings.
    Column("fields", STRING_MAP, "other structured keys, values as strings"),
)

# Hive forbids a partition column with the name of a data column, so the partition that mirrors
# the ``source`` column is ``src``. Values come from the transform's metadata.partitionKeys.
PARTITION_KEYS: Final[tuple[Column, ...]] = (
    Column("src", STRING, "source of the record's log events"),
    Column("dt", STRING, "event date of the record, yyyy-MM-dd (UTC)"),
    Column("hour", STRING, "event hour of the record, HH (UTC)"),
)

COLUMN_TYPES: Final[dict[str, str]] = {c.name: c.type for c in COLUMNS}
COLUMN_NAMES: Final[frozenset[str]] = frozenset(COLUMN_TYPES)

# Java int / long bounds: what Hive's int and bigint hold.
INT_RANGE: Final = (-(2**31), 2**31 - 1)
BIGINT_RANGE: Final = (-(2**63), 2**63 - 1)

__all__ = [
    "BIGINT",
    "BIGINT_RANGE",
    "COLUMNS",
    "COLUMN_NAMES",
    "COLUMN_TYPES",
    "DOUBLE",
    "INT",
    "INT_RANGE",
    "PARTITION_KEYS",
    "STRING",
    "STRING_MAP",
    "TIMESTAMP",
    "Column",
    "ColumnValue",
]
