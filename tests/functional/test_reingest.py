"""Re-ingestion against real clients: the handler keeps its response within the budget and puts
what does not fit back into the stream (a moto Firehose or Kinesis stream on 127.0.0.1, behind a
proxy that injects partial and whole-call failures). Every log event ends up exactly once either in
an Ok row or in a re-ingested payload; what cannot be re-ingested is ProcessingFailed, never Dropped."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from stream_processor.generate import TrafficGenerator, record_bytes_of
from tests.conftest import (
    FakeLambdaContext,
    create_firehose_to_s3,
    data_message,
    decode_rows,
    delivered_bodies,
    encode_payload,
)
from tests.faults import FaultProxy
from transform_lambda.config import MAX_DECOMPRESSED_BYTES, RESPONSE_BUDGET_BYTES
from transform_lambda.decode import DATA_MESSAGE, decode_data
from transform_lambda.handler import lambda_handler

STREAM = "reingest-test"
BUCKET = "reingest-test-bucket"
ACCOUNT = "123456789012"
CTX = FakeLambdaContext()


@pytest.fixture
def firehose_stream(aws_env: str) -> Iterator[str]:
    create_firehose_to_s3(STREAM, BUCKET)
    yield aws_env


def event_of(datas: list[str], *, kinesis: bool = False, keys: list[str] | None = None) -> dict[str, Any]:
    records = []
    for n, data in enumerate(datas):
        record: dict[str, Any] = {
            "recordId": f"rec-{n:05d}",
            "approximateArrivalTimestamp": 1_763_892_000_000 + n,
            "data": data,
        }
        if kinesis:
            record["kinesisRecordMetadata"] = {
                "partitionKey": (keys or [])[n],
                "shardId": "shardId-000000000000",
                "sequenceNumber": str(n),
                "subsequenceNumber": 0,
                "approximateArrivalTimestamp": 1_763_892_000_000,
            }
        records.append(record)
    event = {
        "invocationId": "inv",
        "region": "us-east-1",
        "records": records,
        "deliveryStreamArn": f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{STREAM}",
    }
    if kinesis:
        event["sourceKinesisStreamArn"] = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{STREAM}"
    return event


def generated(request_bytes: int, seed: int = 2) -> tuple[list[str], list[str]]:
    """Base64 record datas adding up to about ``request_bytes``, and the ids of their data events."""
    datas, ids, size = [], [], 0
    for payload in TrafficGenerator(seed).payloads():
        data = base64.b64encode(record_bytes_of(payload)).decode()
        if size + len(data) > request_bytes:
            break
        datas.append(data)
        size += len(data)
        if payload["messageType"] == DATA_MESSAGE:
            ids += [e["id"] for e in payload["logEvents"]]
    return datas, ids


def delivered_event_ids() -> list[str]:
    """Event ids in everything moto's Firehose wrote to S3 (each object = concatenated records)."""
    return [
        e.id
        for body in delivered_bodies(BUCKET)
        for p in decode_data(body, MAX_DECOMPRESSED_BYTES)
        for e in p.log_events
    ]


def ok_row_event_ids(response: dict[str, Any]) -> list[str]:
    return [row["event_id"] for entry in response["records"] if entry["result"] == "Ok" for row in decode_rows(entry)]


def test_reingest_large_batch_fits_the_budget_and_every_event_lands_once(firehose_stream: str) -> None:
    datas, ids = generated(5_500_000)
    response = lambda_handler(event_of(datas), CTX)
    assert len(json.dumps(response)) <= RESPONSE_BUDGET_BYTES
    results = Counter(e["result"] for e in response["records"])
    assert results["Ok"] > 0 and results["Dropped"] > 0 and results["ProcessingFailed"] == 0
    landed = ok_row_event_ids(response) + delivered_event_ids()
    assert Counter(landed) == Counter(ids)  # each exactly once, none lost


def test_reingest_partial_failures_are_retried_until_everything_lands(
    firehose_stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    datas, ids = generated(2_500_000, seed=3)
    with FaultProxy(firehose_stream, fail_entry=lambda call, i: call <= 2 and i % 3 == 0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", proxy.url)
        response = lambda_handler(event_of(datas), CTX)
    assert proxy.failed_entries > 0
    assert Counter(ok_row_event_ids(response) + delivered_event_ids()) == Counter(ids)
    assert "ProcessingFailed" not in {e["result"] for e in response["records"]}


def test_reingest_throttled_calls_are_retried(firehose_stream: str, monkeypatch: pytest.MonkeyPatch) -> None:
    datas, ids = generated(2_000_000, seed=4)
    with FaultProxy(
        firehose_stream, fail_call=lambda call: (400, "ThrottlingException") if call <= 2 else None
    ) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", proxy.url)
        response = lambda_handler(event_of(datas), CTX)
    assert proxy.failed_calls == 2
    assert Counter(ok_row_event_ids(response) + delivered_event_ids()) == Counter(ids)


def test_reingest_persistent_failure_returns_processing_failed_not_dropped(
    firehose_stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    datas, ids = generated(2_000_000, seed=5)
    with FaultProxy(firehose_stream, fail_entry=lambda call, i: True) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", proxy.url)
        response = lambda_handler(event_of(datas), CTX)
    assert proxy.failed_entries > 0 and delivered_event_ids() == []
    by_id = {e["recordId"]: e for e in response["records"]}
    failed_ids: list[str] = []
    for n, data in enumerate(datas):
        entry = by_id[f"rec-{n:05d}"]
        payloads = decode_data(base64.b64decode(data), MAX_DECOMPRESSED_BYTES)
        if entry["result"] == "Dropped":  # only a CONTROL_MESSAGE; nothing went back into the stream
            assert [p.message_type for p in payloads] == ["CONTROL_MESSAGE"]
        elif entry["result"] == "ProcessingFailed":
            failed_ids += [e.id for p in payloads for e in p.log_events]
    assert failed_ids and Counter(ok_row_event_ids(response) + failed_ids) == Counter(ids)
    assert len(json.dumps(response)) <= RESPONSE_BUDGET_BYTES


def test_reingest_kinesis_source_puts_back_with_partition_keys(aws_env: str) -> None:
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    datas, ids = generated(2_000_000, seed=6)
    keys = [f"key-{n % 7}" for n in range(len(datas))]
    response = lambda_handler(event_of(datas, kinesis=True, keys=keys), CTX)
    shard = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    assert records
    put_back: list[str] = []
    by_data = {base64.b64decode(d): k for d, k in zip(datas, keys, strict=True)}
    for record in records:
        assert record["PartitionKey"] == by_data[record["Data"]]  # re-put with its own partition key
        put_back += [e.id for p in decode_data(record["Data"], MAX_DECOMPRESSED_BYTES) for e in p.log_events]
    assert Counter(ok_row_event_ids(response) + put_back) == Counter(ids)


def test_reingest_record_too_big_alone_is_split_at_event_boundaries(
    firehose_stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_RESPONSE_BUDGET_BYTES", "60000")
    events = [(1_763_892_000_000 + i, f"event {i} " + "x" * 300) for i in range(300)]
    payload = {**data_message(events), "policyLevel": "ACCOUNT_LEVEL_POLICY"}
    response = lambda_handler(event_of([encode_payload(payload)]), CTX)
    (entry,) = response["records"]
    assert entry == {"recordId": "rec-00000", "result": "Dropped"}
    chunks = [c for body in delivered_bodies(BUCKET) for c in decode_data(body, MAX_DECOMPRESSED_BYTES)]
    assert len(chunks) > 1
    assert [e.id for c in chunks for e in c.log_events] == [e["id"] for e in payload["logEvents"]]
    for chunk in chunks:  # same envelope, and each chunk now fits a response of that budget
        assert (chunk.log_group, chunk.log_stream, chunk.policy_level) == (
            "/app/orders",
            "i-0abc",
            "ACCOUNT_LEVEL_POLICY",
        )
    chunk_event = event_of(
        [
            base64.b64encode(
                record_bytes_of(
                    {
                        "messageType": "DATA_MESSAGE",
                        "owner": c.owner,
                        "logGroup": c.log_group,
                        "logStream": c.log_stream,
                        "subscriptionFilters": list(c.subscription_filters),
                        "logEvents": [
                            {"id": e.id, "timestamp": e.timestamp, "message": e.message} for e in c.log_events
                        ],
                    }
                )
            ).decode()
            for c in chunks[:1]
        ]
    )
    assert lambda_handler(chunk_event, CTX)["records"][0]["result"] == "Ok"


def test_reingest_single_event_too_large_for_any_response_fails_its_record(
    firehose_stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_RESPONSE_BUDGET_BYTES", "60000")
    payload = data_message([(1_763_892_000_000, "small"), (1_763_892_000_001, "y" * 80_000)])
    (entry,) = lambda_handler(event_of([encode_payload(payload)]), CTX)["records"]
    assert entry == {"recordId": "rec-00000", "result": "ProcessingFailed"}
    assert delivered_event_ids() == []  # nothing half-delivered


def test_reingest_without_a_stream_in_the_event_keeps_records_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_RESPONSE_BUDGET_BYTES", "20000")
    datas = [encode_payload(data_message([(1_763_892_000_000, "x" * 500)] * 10)) for _ in range(6)]
    event = event_of(datas)
    del event["deliveryStreamArn"]
    results = [e["result"] for e in lambda_handler(event, CTX)["records"]]
    assert results[0] == "Ok" and "ProcessingFailed" in results and "Dropped" not in results


def test_reingest_big_record_past_the_budget_is_split_not_bounced_whole(
    firehose_stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_RESPONSE_BUDGET_BYTES", "200000")
    small = [encode_payload(data_message([(1_763_892_000_000 + i, "s" * 300)] * 20)) for i in range(12)]
    big_events = [(1_763_892_000_000 + i, f"big {i} " + "b" * 400) for i in range(150)]
    big = data_message(big_events)
    response = lambda_handler(event_of([*small, encode_payload(big)]), CTX)
    assert len(json.dumps(response)) <= 200_000
    assert response["records"][-1] == {"recordId": f"rec-{len(small):05d}", "result": "Dropped"}
    chunks = [p for body in delivered_bodies(BUCKET) for p in decode_data(body, MAX_DECOMPRESSED_BYTES)]
    big_chunks = [c for c in chunks if c.log_events and c.log_events[0].message.startswith("big")]
    assert len(big_chunks) > 1  # cut into pieces that fit beside others when they come back
    assert [e.id for c in big_chunks for e in c.log_events] == [e["id"] for e in big["logEvents"]]
