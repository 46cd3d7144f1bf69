"""Shape stage: rows carry exactly schema columns; the parsers' values are taken as they come (their
contract is tested in test_parse_properties), a key no parser may fill is left out and named in
parse_error, and the row (with its raw message) is never lost."""

from __future__ import annotations

from transform_lambda.decode import LogEvent, Payload
from transform_lambda.schema import COLUMN_NAMES
from transform_lambda.shape import shape_row
from transform_lambda.timefmt import iso_from_epoch_ms

PAYLOAD = Payload("DATA_MESSAGE", "111122223333", "/app/g", "s-1", ("f",), ())


def row_of(parsed: dict[str, object], *, ts: int | None = 1_700_000_000_123, extracted: dict[str, str] | None = None):
    event = LogEvent("id-1", ts, "raw message", extracted)
    return shape_row(PAYLOAD, event, "text", "raw message", parsed, None, "2023-11-14T22:13:21.000Z")  # type: ignore[arg-type]


def test_shape_envelope_columns_are_filled() -> None:
    row = row_of({})
    assert row == {
        "event_time": "2023-11-14T22:13:20.123Z",
        "arrival_time": "2023-11-14T22:13:21.000Z",
        "event_id": "id-1",
        "account_id": "111122223333",
        "log_group": "/app/g",
        "log_stream": "s-1",
        "source": "text",
        "message": "raw message",
    }


def test_shape_typed_values_are_kept() -> None:
    parsed = {
        "level": "INFO",
        "duration_ms": 1.5,
        "billed_duration_ms": 2,
        "memory_size_mb": 128,
        "flow_start": "2023-11-14T22:13:20.000Z",
        "latency_ms": 3.0,
        "fields": {"a": "b"},
    }
    row = row_of(parsed)
    assert {name: row[name] for name in parsed} == parsed
    assert list(row)[8:] == list(parsed), "parsed columns follow the envelope, in the parser's order"
    assert "parse_error" not in row
    assert set(row) <= COLUMN_NAMES


def test_shape_keeps_the_parse_error_beside_parsed_values() -> None:
    event = LogEvent("id-1", 1_700_000_000_123, "raw message")
    row = shape_row(PAYLOAD, event, "text", "raw message", {"level": "WARN"}, "not_json", None)
    assert row["level"] == "WARN" and row["parse_error"] == "not_json"
    assert "arrival_time" not in row and row["event_id"] == "id-1"


def test_shape_unknown_and_envelope_columns_from_a_parser_are_refused() -> None:
    row = row_of({"level": "INFO", "no_such_column": "x", "message": "overridden", "event_id": "forged"})
    assert row["message"] == "raw message" and row["event_id"] == "id-1"
    assert "no_such_column" not in row and row["level"] == "INFO"
    assert row["parse_error"] == "unknown_column:no_such_column;unknown_column:message;unknown_column:event_id"


def test_shape_bad_timestamp_keeps_row_without_event_time() -> None:
    for ts in (None, -1, 10**15):
        row = row_of({}, ts=ts)
        assert "event_time" not in row
        assert row["parse_error"] == "bad_timestamp"
        assert row["message"] == "raw message"


def test_shape_extracted_fields_go_to_fields_and_give_the_source_account() -> None:
    row = row_of({"fields": {"k": "v"}}, extracted={"@aws.account": "999888777666", "@aws.region": "us-west-2"})
    assert row["account_id"] == "999888777666"
    assert row["fields"] == {"@aws.account": "999888777666", "@aws.region": "us-west-2", "k": "v"}
    assert row_of({"fields": {"@aws.region": "eu-west-1"}}, extracted={"@aws.region": "us-west-2"})["fields"] == {
        "@aws.region": "eu-west-1"
    }, "the parser's value wins over extractedFields"
    alone = row_of({"level": "INFO"}, extracted={"k": "v"})
    assert alone["fields"] == {"k": "v"} and list(alone)[-1] == "fields"


def test_shape_timestamp_spelling_is_openx_compatible() -> None:
    assert iso_from_epoch_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_from_epoch_ms(253_402_300_799_999) == "9999-12-31T23:59:59.999Z"
    assert iso_from_epoch_ms(253_402_300_800_000) is None
    assert iso_from_epoch_ms(-1) is None
