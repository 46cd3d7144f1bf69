"""Prefix evaluation, expression by expression, against the examples of Firehose's "Custom Prefixes
for Amazon S3 Objects" page, and its validation rules."""

from __future__ import annotations

import gzip
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stream_processor.errors import ConfigError
from stream_processor.firehose.invoke import Handler
from stream_processor.firehose.prefix import (
    PrefixError,
    evaluate_prefix,
    format_java_datetime,
    keys_only,
    object_name,
    validate_prefixes,
)
from stream_processor.pipeline import LocalFirehose
from stream_processor.settings import ERROR_OUTPUT_PREFIX, PREFIX, DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from tests.conftest import data_message
from transform_lambda.handler import lambda_handler

# The docs' examples are evaluated at 2018-08-27T10:30:00Z.
AT = int(datetime(2018, 8, 27, 10, 30, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", "2018/08/27/10/"),
        ("myPrefix/", "myPrefix/2018/08/27/10/"),
        ("myPrefix/!{timestamp:yyyy/MM/dd}/", "myPrefix/2018/08/27/"),
        (
            "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            "myPrefix/year=2018/month=08/day=27/hour=10/",
        ),
        ("!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/", "year=2018/month=08/day=27/hour=10/"),
        ("logs/!{timestamp:yyyy-MM-dd'T'HH}/", "logs/2018-08-27T10/"),
    ],
)
def test_prefix_timestamp_expressions_evaluate_like_firehose(prefix: str, expected: str) -> None:
    assert evaluate_prefix(prefix, AT) == expected


def test_prefix_random_string_is_eleven_chars_and_new_each_time() -> None:
    out = evaluate_prefix(
        "p/!{firehose:random-string}/!{firehose:random-string}/!{timestamp:yyyy}/", AT, rng=random.Random(7)
    )
    match = re.fullmatch(r"p/([A-Za-z0-9]{11})/([A-Za-z0-9]{11})/2018/", out)
    assert match and match.group(1) != match.group(2)


def test_prefix_error_output_type_is_substituted_in_the_error_prefix() -> None:
    out = evaluate_prefix(
        "fail/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/", AT, error_output_type="processing-failed"
    )
    assert out == "fail/processing-failed/2018/08/27/"


def test_prefix_partition_keys_from_lambda_without_default_time_suffix() -> None:
    keys = {"src": "lambda", "dt": "2025-11-23", "hour": "10"}
    assert evaluate_prefix(PREFIX, AT, partition_keys=keys, dynamic_partitioning=True) == (
        "logs/src=lambda/dt=2025-11-23/hour=10/"
    )


def test_prefix_missing_partition_key_cannot_be_evaluated() -> None:
    with pytest.raises(PrefixError, match="'hour'"):
        evaluate_prefix(PREFIX, AT, partition_keys={"src": "x", "dt": "y"}, dynamic_partitioning=True)


def test_prefix_default_settings_pass_validation() -> None:
    validate_prefixes(PREFIX, ERROR_OUTPUT_PREFIX, dynamic_partitioning=True)


@pytest.mark.parametrize(
    ("prefix", "error_prefix", "dynamic", "message"),
    [
        ("", "", True, "Prefix is required"),
        ("a/!{timestamp:yyyy}/", "", False, "ErrorOutputPrefix is required"),
        ("a/!{timestamp:yyyy}/", "errors/", False, "must contain !{firehose:error-output-type}"),
        ("a/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}/", False, "must not contain"),
        (
            "a/!{partitionKeyFromLambda:x}/",
            "e/!{firehose:error-output-type}/",
            False,
            "dynamic partitioning is disabled",
        ),
        (
            "a/!{partitionKeyFromLambda:x}/",
            "e/!{firehose:error-output-type}/!{partitionKeyFromLambda:x}/",
            True,
            "must not contain partition key",
        ),
        ("a/!{unknown:x}/", "e/!{firehose:error-output-type}/", False, "unknown namespace"),
        ("a/!{firehose:nope}/", "e/!{firehose:error-output-type}/", False, "unknown firehose expression"),
        ("a/!{timestamp:yyyy/", "e/!{firehose:error-output-type}/", False, "outside a valid"),
    ],
)
def test_prefix_invalid_configuration_is_rejected(prefix: str, error_prefix: str, dynamic: bool, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_prefixes(prefix, error_prefix, dynamic)


def test_prefix_java_patterns() -> None:
    at = datetime(2024, 2, 5, 7, 8, 9, 123456, tzinfo=UTC)
    assert format_java_datetime(at, "yyyy-MM-dd HH:mm:ss.SSS") == "2024-02-05 07:08:09.123"
    assert format_java_datetime(at, "yy/M/d H") == "24/2/5 7"
    assert format_java_datetime(at, "EEE MMM D DDD") == "Mon Feb 36 036"
    assert format_java_datetime(at, "''yyyy''") == "'2024'"
    with pytest.raises(ConfigError, match="not supported"):
        format_java_datetime(at, "yyyy Q")


def test_prefix_object_name_follows_firehose_pattern() -> None:
    name = object_name("my-stream", AT, ".parquet")
    assert re.fullmatch(r"my-stream-1-2018-08-27-10-30-00-[0-9a-f-]{36}\.parquet", name)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (PREFIX, True),
        ("logs/!{partitionKeyFromQuery:a}/", True),
        ("logs/", True),
        ("logs/!{partitionKeyFromLambda:src}/!{timestamp:yyyy}/", False),
        ("logs/!{partitionKeyFromLambda:src}/!{firehose:random-string}/", False),
    ],
)
def test_keys_only_is_a_prefix_without_timestamp_or_firehose_expressions(prefix: str, expected: bool) -> None:
    assert keys_only(prefix) is expected


def _with_keys(keys_by_record: list[dict[str, str] | None]) -> Handler:
    """The transform, answering each Ok record, in order, with these partition keys (None: its own)."""
    answered = iter(keys_by_record)

    def handler(event: dict[str, Any], context: Any) -> Any:
        response = lambda_handler(event, context)
        for entry in response["records"]:
            keys = next(answered, None) if entry["result"] == "Ok" else None
            if keys is not None:
                entry["metadata"]["partitionKeys"] = keys
        return response

    return handler


@pytest.mark.parametrize("prefix", [PREFIX, PREFIX + "!{timestamp:yyyy}/"], ids=["keys only", "with a timestamp"])
def test_twin_fails_each_record_whose_partition_keys_make_no_prefix(tmp_path: Path, prefix: str) -> None:
    # GIVEN records answered with good keys, then a key missing, an empty key, a prefix past 512
    # characters, good keys seen before, and each bad set again
    good = {"src": "lambda", "dt": "2025-11-23", "hour": "10"}
    bad = [{"src": "lambda", "dt": "2025-11-23"}, {**good, "hour": ""}, {**good, "src": "x" * 600}]
    answers: list[dict[str, str] | None] = [good, *bad, good, *bad, good]
    records = [
        SourceRecord(gzip.compress(json.dumps(data_message([(1_763_892_000_000 + n, f"m{n}")])).encode()), AT, "t")
        for n in range(len(answers))
    ]
    settings = DeliverySettings(prefix=prefix, processor_buffer_size_mb=0.2)
    firehose = LocalFirehose(tmp_path / "lake", settings, _with_keys(answers), clock_ms=lambda: AT)
    # WHEN the twin delivers them
    stats = firehose.run(records)
    # THEN the good ones are written and each bad one fails with Firehose's code; nothing is lost
    assert stats.rows_written == 3 and stats.records_failed == 6 and stats.conserved
    assert stats.failure_codes == {"DynamicPartitioning.PartitionKeyError": 6}
    messages = [
        json.loads(line)["errorMessage"]
        for path in (tmp_path / "lake").rglob("*")
        if path.is_file() and "processing-failed" in str(path)
        for line in path.read_text().splitlines()
    ]
    assert sorted(messages) == sorted(
        [
            "partition key 'hour' is missing",
            "partition key 'hour' is empty",
            "evaluated prefix is longer than 512 characters",
        ]
        * 2
    )
