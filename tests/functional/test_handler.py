"""The handler against the Firehose data-transformation contract, rule by rule, and on every recorded
fixture. Transform-only (no pyarrow/duckdb), so it also runs on the Lambda runtimes' Pythons."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    FIXTURES,
    FakeLambdaContext,
    control_message,
    data_message,
    decode_rows,
    encode_payload,
    firehose_event,
)
from transform_lambda import accel
from transform_lambda.handler import lambda_handler, lambda_handler_bytes, response_json
from transform_lambda.schema import COLUMN_NAMES

CTX = FakeLambdaContext()
RESULTS = {"Ok", "Dropped", "ProcessingFailed"}


def call(event: dict[str, Any]) -> dict[str, Any]:
    response = lambda_handler(event, CTX)
    json.dumps(response)  # what the runtime does; must not fail
    return response


def by_id(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["recordId"]: entry for entry in response["records"]}


def test_handler_data_message_is_ok_with_one_row_per_event_in_order() -> None:
    messages = [(1_763_892_900_000 + i, f"event {i}\n") for i in range(5)]
    response = call(firehose_event([encode_payload(data_message(messages))]))
    (entry,) = response["records"]
    assert entry["recordId"] == "r0" and entry["result"] == "Ok"
    rows = decode_rows(entry)
    assert [r["message"] for r in rows] == [f"event {i}" for i in range(5)]
    assert [r["event_id"] for r in rows] == [e["id"] for e in data_message(messages)["logEvents"]]
    assert all(set(r) <= COLUMN_NAMES for r in rows)
    assert entry["metadata"]["partitionKeys"] == {"src": "text", "dt": "2025-11-23", "hour": "10"}


def test_handler_control_message_is_dropped_without_data() -> None:
    (entry,) = call(firehose_event([encode_payload(control_message())]))["records"]
    assert entry == {"recordId": "r0", "result": "Dropped"}


@pytest.mark.parametrize(
    "bad",
    [
        "%%% not base64",
        base64.b64encode(b"not gzip").decode(),
        base64.b64encode(gzip.compress(b'{"messageType": "DATA_MESSAGE"')[:-8]).decode(),
        base64.b64encode(gzip.compress(b"{nope")).decode(),
        base64.b64encode(gzip.compress(b"[]")).decode(),
        encode_payload({**data_message([(1, "x")]), "messageType": "NEW_KIND"}),
        encode_payload({**data_message([(1, "x")]), "logEvents": None}),
        None,
        12,
    ],
)
def test_handler_bad_record_fails_alone(bad: object) -> None:
    good = encode_payload(data_message([(1_763_892_900_000, "fine")]))
    response = call(firehose_event([good, bad, good]))
    results = [e["result"] for e in response["records"]]
    assert results == ["Ok", "ProcessingFailed", "Ok"]
    assert "data" not in response["records"][1]


def test_handler_every_record_id_comes_back_exactly_once_in_order() -> None:
    datas = [encode_payload(data_message([(1_763_892_900_000 + i, "m")])) for i in range(50)]
    datas[7] = encode_payload(control_message())
    datas[9] = "garbage"
    response = call(firehose_event(datas))
    assert [e["recordId"] for e in response["records"]] == [f"r{i}" for i in range(50)]
    assert {e["result"] for e in response["records"]} <= RESULTS


def test_handler_duplicate_record_ids_answer_once_as_failed() -> None:
    event = firehose_event([encode_payload(data_message([(1, "a")]))] * 3)
    event["records"][2]["recordId"] = "r0"
    response = call(event)
    assert [e["recordId"] for e in response["records"]] == ["r0", "r1"]
    assert by_id(response)["r0"]["result"] == "ProcessingFailed"
    assert by_id(response)["r1"]["result"] == "Ok"


def test_handler_records_without_id_cannot_be_answered_and_others_still_are() -> None:
    event = firehose_event([encode_payload(data_message([(1, "a")]))] * 2)
    del event["records"][0]["recordId"]
    event["records"].append("not a record")
    assert [e["recordId"] for e in call(event)["records"]] == ["r1"]


def test_handler_non_firehose_event_returns_no_records() -> None:
    assert call({"hello": "world"}) == {"records": []}


def test_handler_response_stays_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_RESPONSE_BUDGET_BYTES", "20000")
    datas = [encode_payload(data_message([(1_763_892_900_000, "x" * 500)] * 10)) for _ in range(12)]
    response = call(firehose_event(datas))
    size = len(json.dumps(response))
    assert size <= 20_000
    results = [e["result"] for e in response["records"]]
    assert results[0] == "Ok" and "ProcessingFailed" in results
    assert results.index("ProcessingFailed") > 0 and len(results) == 12


def test_handler_decompression_cap_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_MAX_DECOMPRESSED_BYTES", "2000")
    small = encode_payload(data_message([(1, "s")]))
    big = encode_payload(data_message([(1, "b" * 5000)]))
    assert [e["result"] for e in call(firehose_event([small, big]))["records"]] == ["Ok", "ProcessingFailed"]


def test_handler_plain_json_record_is_transformed() -> None:
    data = encode_payload(data_message([(1_763_892_900_000, "plain")]), compress=False)
    (entry,) = call(firehose_event([data]))["records"]
    assert decode_rows(entry)[0]["message"] == "plain"


def test_handler_rows_keep_raw_message_minus_trailing_newline() -> None:
    messages = [(1, "keep\ttabs\n"), (2, "multi\nline\r\n"), (3, ""), (4, "\n\n")]
    (entry,) = call(firehose_event([encode_payload(data_message(messages))]))["records"]
    assert [r["message"] for r in decode_rows(entry)] == ["keep\ttabs", "multi\nline", "", ""]


def _fixture_events() -> list[Path]:
    return sorted((FIXTURES / "events").glob("*.json"))


@pytest.mark.parametrize("path", _fixture_events(), ids=lambda p: p.stem)
def test_handler_recorded_events_obey_the_contract(path: Path) -> None:
    event = json.loads(path.read_text())
    response = call(event)
    ids = [r["recordId"] for r in event["records"]]
    assert [e["recordId"] for e in response["records"]] == ids
    for entry in response["records"]:
        assert entry["result"] in RESULTS
        if entry["result"] == "Ok":
            rows = decode_rows(entry)
            assert rows and all(set(r) <= COLUMN_NAMES for r in rows)
        else:
            assert "data" not in entry


def test_handler_mixed_corrupt_fixture_fails_only_the_corrupt_records() -> None:
    event = json.loads((FIXTURES / "events" / "mixed-corrupt.json").read_text())
    results = [e["result"] for e in call(event)["records"]]
    assert results == ["Ok"] + ["ProcessingFailed"] * 6 + ["Ok"]


@pytest.mark.parametrize(
    "name", ["powertools-kinesis-cwl-1.gz.b64", "powertools-kinesis-cwl-2.gz.b64", "powertools-policy-level.zlib.b64"]
)
def test_handler_conformance_payloads_become_rows(name: str) -> None:
    data = "".join((FIXTURES / "conformance" / name).read_text().split())
    (entry,) = call(firehose_event([data]))["records"]
    assert entry["result"] == "Ok"
    raw = json.loads(__import__("zlib").decompress(base64.b64decode(data), 47))
    assert [r["event_id"] for r in decode_rows(entry)] == [e["id"] for e in raw["logEvents"]]


def test_handler_non_finite_arrival_and_odd_arns_do_not_raise() -> None:
    event = firehose_event([encode_payload(data_message([(1_763_892_900_000, "m")]))] * 4)
    event["records"][0]["approximateArrivalTimestamp"] = float("nan")
    event["records"][1]["approximateArrivalTimestamp"] = float("inf")
    # Regression: an int past a float's range (json.loads reads a long literal so) raised OverflowError
    # out of the handler, in math.isfinite; it is an arrival time no row can spell, as the others.
    event["records"][2]["approximateArrivalTimestamp"] = 10**309
    event["records"][3]["approximateArrivalTimestamp"] = -(10**400)
    event["deliveryStreamArn"] = "arn/x:aws:firehose:us-east-1:1:deliverystream"
    response = call(event)
    assert [e["result"] for e in response["records"]] == ["Ok"] * 4
    assert all("arrival_time" not in row for entry in response["records"] for row in decode_rows(entry))


def test_handler_event_without_id_keeps_extracted_fields_with_and_without_accelerators() -> None:
    from transform_lambda import accel

    payload = data_message(
        [
            {
                "timestamp": 1_763_892_900_000,
                "message": "hello",
                "extractedFields": {"@aws.account": "999999999999", "k": "v"},
            }
        ]
    )
    event = firehose_event([encode_payload(payload)])
    rows = []
    for enabled in (False, True):
        accel.use_accelerators(enabled)
        try:
            rows.append(decode_rows(call(event)["records"][0]))
        finally:
            accel.use_accelerators(True)
    assert rows[0] == rows[1]
    assert rows[0][0]["account_id"] == "999999999999" and rows[0][0]["fields"] == {
        "@aws.account": "999999999999",
        "k": "v",
    }


@pytest.mark.parametrize("path", _fixture_events(), ids=lambda p: p.stem)
def test_handler_bytes_entry_point_is_the_same_response_as_compact_json(path: Path) -> None:
    event = json.loads(path.read_text())
    encoded = lambda_handler_bytes(event, CTX)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == lambda_handler(event, CTX)
    assert encoded == json.dumps(json.loads(encoded), ensure_ascii=False, separators=(",", ":")).encode()
    try:
        accel.use_accelerators(False)
        assert lambda_handler_bytes(event, CTX) == encoded  # the same bytes without orjson
    finally:
        accel.use_accelerators(True)


def test_handler_response_json_escapes_what_utf8_cannot_carry() -> None:
    response = {"records": [{"recordId": "id-\ud800", "result": "ProcessingFailed"}]}
    for enabled in (True, False):
        try:
            accel.use_accelerators(enabled)
            encoded = response_json(response)
        finally:
            accel.use_accelerators(True)
        assert encoded == b'{"records":[{"recordId":"id-\\ud800","result":"ProcessingFailed"}]}'
        assert json.loads(encoded) == response
    assert (
        response_json({"records": [{"recordId": "é", "result": "Ok"}]})
        == '{"records":[{"recordId":"é","result":"Ok"}]}'.encode()
    )
