"""Invoke stage: the twin shapes events like Firehose and refuses replies that break the contract;
a broken batch goes whole to processing-failed, loudly, and loses nothing."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from stream_processor.errors import ContractError
from stream_processor.firehose.invoke import RecordIds, check_reply, invoke_transform
from stream_processor.pipeline import LocalFirehose
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from tests.conftest import data_message
from transform_lambda.config import LAMBDA_RESPONSE_LIMIT_BYTES
from transform_lambda.handler import lambda_handler

SETTINGS = DeliverySettings()


def records(n: int) -> list[SourceRecord]:
    return [
        SourceRecord(
            gzip.compress(json.dumps(data_message([(1_763_892_900_000 + i, f"m{i}")])).encode(), mtime=0),
            1_763_892_901_000 + i,
            f"test#{i}",
        )
        for i in range(n)
    ]


def test_invoke_event_is_shaped_like_firehose() -> None:
    seen: list[dict[str, Any]] = []

    def spy(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        assert context.get_remaining_time_in_millis() > 0
        return lambda_handler(event, context)

    invocation = invoke_transform(spy, records(3), SETTINGS, RecordIds())
    (event,) = seen
    assert set(event) == {"invocationId", "deliveryStreamArn", "region", "records"}
    assert event["deliveryStreamArn"].endswith(":deliverystream/stream-processor")
    assert [r["approximateArrivalTimestamp"] for r in event["records"]] == [1_763_892_901_000 + i for i in range(3)]
    assert all(len(r["recordId"]) == 56 and r["recordId"].isdigit() for r in event["records"])
    assert invocation.error is None and {r.result for r in invocation.replies.values()} == {"Ok"}


def ok(rid: str) -> dict[str, Any]:
    return {"recordId": rid, "result": "Ok", "data": base64.b64encode(b"{}").decode()}


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ({"records": [ok("a")]}, "Lambda.MissingRecordId"),
        ({"records": [ok("a"), ok("b"), ok("a")]}, "Lambda.DuplicatedRecordId"),
        ({"records": [ok("a"), ok("b"), ok("zzz")]}, "Lambda.InvalidRecordId"),
        ({"records": [ok("a"), {"recordId": "b", "result": "OK"}]}, "Lambda.InvalidResult"),
        ({"records": [ok("a"), {"recordId": "b", "result": "Ok"}]}, "Lambda.InvalidData"),
        ({"records": [ok("a"), {"recordId": "b", "result": "Ok", "data": "%%"}]}, "Lambda.InvalidData"),
        ({"records": [ok("a"), {"recordId": "b", "result": "Ok", "data": "ñw=="}]}, "Lambda.InvalidData"),
        ({"records": [ok("a"), {**ok("b"), "metadata": {"partitionKeys": {"k": 1}}}]}, "Lambda.InvalidMetadata"),
        ({"nope": []}, "Lambda.InvalidResponse"),
        ({"records": [ok("a"), {**ok("b"), "data": "A" * 6_300_000}]}, "Lambda.ResponseSizeExceeded"),
    ],
)
def test_invoke_reply_breaking_the_contract_is_refused(reply: dict[str, Any], code: str) -> None:
    with pytest.raises(ContractError) as info:
        check_reply(reply, ["a", "b"])
    assert info.value.error_code == code


def test_invoke_handler_exception_is_retried_then_fails_the_batch() -> None:
    calls = []

    def broken(event: dict[str, Any], context: Any) -> Any:
        calls.append(1)
        raise RuntimeError("boom")

    invocation = invoke_transform(broken, records(2), SETTINGS, RecordIds(), number_of_retries=3)
    assert len(calls) == 4 and invocation.attempts == 4
    assert invocation.error is not None and invocation.error.error_code == "Lambda.FunctionError"


def test_invoke_contract_break_sends_the_batch_to_processing_failed_without_loss(tmp_path: Path) -> None:
    def forgetful(event: dict[str, Any], context: Any) -> Any:
        response = lambda_handler(event, context)
        response["records"].pop()  # "forget" one record id
        return response

    stats = LocalFirehose(tmp_path, SETTINGS, forgetful).run(records(4))
    assert stats.contract_errors == 1 and stats.records_failed == 4 and stats.rows_written == 0
    assert stats.conserved and stats.events_failed == 4
    (error_object,) = (tmp_path / "errors" / "processing-failed").rglob("stream-processor-1-*")
    docs = [json.loads(line) for line in error_object.read_text().splitlines()]
    assert {d["errorCode"] for d in docs} == {"Lambda.MissingRecordId"}
    assert [base64.b64decode(d["rawData"]) for d in docs] == [r.data for r in records(4)]


def test_invoke_dropping_data_records_is_caught_as_loss(tmp_path: Path) -> None:
    def dropper(event: dict[str, Any], context: Any) -> Any:
        return {"records": [{"recordId": r["recordId"], "result": "Dropped"} for r in event["records"]]}

    stats = LocalFirehose(tmp_path, SETTINGS, dropper).run(records(2))
    assert stats.events_handed_back == 2 and stats.reingested_events_in == 0
    assert not stats.conserved


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (b"not json", "Lambda.JsonProcessingException"),
        (b'{"records": [', "Lambda.JsonProcessingException"),
        (b"\xff\xfe{}", "Lambda.JsonProcessingException"),
        ('{"records": []}'.encode("utf-16"), "Lambda.JsonProcessingException"),  # not UTF-8
        (b'\xef\xbb\xbf{"records": []}', "Lambda.JsonProcessingException"),  # a byte order mark
        (b'{"records": [], "x": NaN}', "Lambda.JsonProcessingException"),
        (bytearray(b'{"records": []}'), "Lambda.JsonProcessingException"),  # the runtime cannot encode it
        (b'{"records": []}', "Lambda.MissingRecordId"),
        (b'{"nope": []}', "Lambda.InvalidResponse"),
        (
            json.dumps({"records": [ok("a"), {**ok("b"), "data": "A" * 6_300_000}]}).encode(),
            "Lambda.ResponseSizeExceeded",
        ),
    ],
)
def test_invoke_bytes_reply_is_read_as_json_and_checked_alike(reply: bytes | bytearray, code: str) -> None:
    with pytest.raises(ContractError) as info:
        check_reply(reply, ["a", "b"])
    assert info.value.error_code == code


def test_invoke_bytes_reply_size_is_its_own_length() -> None:
    reply = {"records": [ok("a"), ok("b")]}
    compact = json.dumps(reply, separators=(",", ":")).encode()
    replies, size = check_reply(compact, ["a", "b"])
    assert size == len(compact) < len(json.dumps(reply).encode())
    assert {rid: r.data for rid, r in replies.items()} == {"a": b"{}", "b": b"{}"}


def test_invoke_compact_bytes_reply_just_under_the_limit_passes() -> None:
    # The runtime would spell the same dict with ", " and ": ", 12 bytes longer here: over the limit.
    def big(data_chars: int) -> dict[str, Any]:
        return {"records": [ok("a"), {**ok("b"), "data": "A" * data_chars}]}

    base = len(json.dumps(big(0), separators=(",", ":")))
    chars = (LAMBDA_RESPONSE_LIMIT_BYTES - 5 - base) // 4 * 4
    encoded = json.dumps(big(chars), separators=(",", ":")).encode()
    assert len(encoded) <= LAMBDA_RESPONSE_LIMIT_BYTES < len(json.dumps(big(chars)).encode())
    assert check_reply(encoded, ["a", "b"])[1] == len(encoded)
    with pytest.raises(ContractError):
        check_reply(big(chars), ["a", "b"])
