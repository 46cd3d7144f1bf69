"""Unit tests of the generic ``json`` parser."""

from __future__ import annotations

import pytest

from transform_lambda.errors import ParseError
from transform_lambda.parse.json_log import parse_json_log, to_field_string


def test_parse_json_conventional_keys_fill_columns() -> None:
    message = '{"level":"warning","msg":"disk high","request_id":"r-1","trace_id":"t-1","percent":91.5}'
    assert parse_json_log(message) == {
        "level": "WARN",
        "request_id": "r-1",
        "trace_id": "t-1",
        "fields": {"msg": "disk high", "percent": "91.5"},
    }


def test_parse_json_message_text_stays_under_its_own_key() -> None:
    assert parse_json_log('{"message":"a"}') == {"fields": {"message": "a"}}
    assert parse_json_log('{"msg":"b"}') == {"fields": {"msg": "b"}}


def test_parse_json_pino_numeric_level_normalized() -> None:
    assert parse_json_log('{"level":50,"msg":"x"}')["level"] == "ERROR"


@pytest.mark.parametrize(
    ("key", "value", "level"),
    [
        ("severity", "CRITICAL", "FATAL"),
        ("lvl", "dbg", "DEBUG"),
        ("log.level", "info", "INFO"),
        ("levelname", "Warn", "WARN"),
    ],
)
def test_parse_json_level_key_variants_normalized(key: str, value: str, level: str) -> None:
    assert parse_json_log(f'{{"{key}":"{value}"}}') == {"level": level}


def test_parse_json_unknown_level_kept_in_fields() -> None:
    assert parse_json_log('{"level":"verbose"}') == {"fields": {"level": "verbose"}}


def test_parse_json_second_level_key_kept_in_fields() -> None:
    assert parse_json_log('{"level":"info","severity":"error"}') == {"level": "INFO", "fields": {"severity": "error"}}


def test_parse_json_non_string_request_id_kept_in_fields() -> None:
    assert parse_json_log('{"requestId":42,"traceId":""}') == {"fields": {"requestId": "42", "traceId": ""}}


def test_parse_json_values_rendered_as_strings() -> None:
    parsed = parse_json_log('{"a":true,"b":false,"c":12,"d":1.5,"e":[1,{"x":"é"}],"f":null,"g":{}}')
    assert parsed == {"fields": {"a": "true", "b": "false", "c": "12", "d": "1.5", "e": '[1,{"x":"é"}]', "g": "{}"}}


def test_parse_json_non_finite_number_rendered_as_text() -> None:
    assert to_field_string(float("nan")) == "NaN"


@pytest.mark.parametrize("message", ["not json", '["a"]', '"text"', "{broken", "{}x", " {}", "[" * 100_000])
def test_parse_json_not_an_object_raises_not_json(message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_json_log(message)
    assert info.value.code == "not_json"


def test_parse_json_deep_nesting_raises_not_json() -> None:
    with pytest.raises(ParseError):
        parse_json_log('{"a":' + "[" * 100_000 + "]" * 100_000 + "}")


def test_parse_json_empty_object_gives_nothing() -> None:
    assert parse_json_log("{}") == {}
