"""KPL: an aggregated record arriving at the transform directly (Direct PUT) is read sub-record by
sub-record into that record's output; a corrupt aggregate fails its record."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from tests.conftest import FakeLambdaContext, data_message, decode_rows, firehose_event
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import decode_data
from transform_lambda.errors import DecodeError
from transform_lambda.handler import lambda_handler
from transform_lambda.kpl import KPL_MAGIC, is_aggregated


def aggregate(*payloads: dict[str, object]) -> bytes:
    aggregator = RecordAggregator()
    for n, payload in enumerate(payloads):
        aggregator.add_user_record(f"pk-{n}", gzip.compress(json.dumps(payload).encode()))
    return bytes(aggregator.clear_and_get().get_contents()[2])


def test_kpl_aggregate_yields_every_sub_record_payload() -> None:
    raw = aggregate(data_message([(1, "a"), (2, "b")]), data_message([(3, "c")], log_stream="other"))
    assert is_aggregated(raw) and raw[:4] == KPL_MAGIC
    payloads = decode_data(raw, MAX_DECOMPRESSED_BYTES)
    assert [[e.message for e in p.log_events] for p in payloads] == [["a", "b"], ["c"]]


def test_kpl_aggregate_through_the_handler_is_one_ok_record_with_all_rows() -> None:
    raw = aggregate(data_message([(1_763_892_000_000, "a")]), data_message([(1_763_892_000_001, "b")]))
    (entry,) = lambda_handler(firehose_event([base64.b64encode(raw).decode()]), FakeLambdaContext())["records"]
    assert entry["result"] == "Ok" and [r["message"] for r in decode_rows(entry)] == ["a", "b"]


@pytest.mark.parametrize("corrupt", [lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]), lambda raw: raw[:4] + b"\x00" * 30])
def test_kpl_corrupt_aggregate_fails_with_its_code(corrupt: object) -> None:
    raw = corrupt(aggregate(data_message([(1, "a")])))  # type: ignore[operator]
    with pytest.raises(DecodeError) as info:
        decode_data(raw, MAX_DECOMPRESSED_BYTES)
    assert info.value.code == "invalid_kpl"
