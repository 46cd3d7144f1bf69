"""Unit tests of the ``apigateway`` parser (REST JSON, HTTP API JSON, CLF)."""

from __future__ import annotations

import json

import pytest

from transform_lambda.errors import ParseError
from transform_lambda.parse.apigateway import parse_apigateway

RID = "c0ffee00-1111-4222-a333-444455556666"


def test_parse_apigateway_rest_json_string_values_converted() -> None:
    message = json.dumps(
        {
            "requestId": RID,
            "ip": "203.0.113.7",
            "caller": "-",
            "user": "-",
            "requestTime": "01/Jun/2024:12:00:00 +0000",
            "httpMethod": "GET",
            "resourcePath": "/orders/{id}",
            "status": "200",
            "protocol": "HTTP/1.1",
            "responseLength": "1234",
        }
    )
    assert parse_apigateway(message) == {
        "request_id": RID,
        "source_ip": "203.0.113.7",
        "http_method": "GET",
        "route": "/orders/{id}",
        "status_code": 200,
        "response_length": 1234,
        "fields": {"requestTime": "01/Jun/2024:12:00:00 +0000", "protocol": "HTTP/1.1"},
    }


def test_parse_apigateway_http_api_route_key_gives_route_and_method() -> None:
    message = json.dumps(
        {
            "requestId": "Ab1=",
            "routeKey": "GET /pets/{id}",
            "path": "/pets/42",
            "status": 200,
            "integrationLatency": "12",
            "responseLatency": 15,
        }
    )
    assert parse_apigateway(message) == {
        "request_id": "Ab1=",
        "path": "/pets/42",
        "status_code": 200,
        "integration_latency_ms": 12.0,
        "latency_ms": 15.0,
        "route": "/pets/{id}",
        "http_method": "GET",
        "fields": {"routeKey": "GET /pets/{id}"},
    }


def test_parse_apigateway_route_key_any_keeps_logged_method() -> None:
    parsed = parse_apigateway('{"routeKey":"ANY /pets","httpMethod":"POST"}')
    assert parsed["http_method"] == "POST" and parsed["route"] == "/pets"


def test_parse_apigateway_default_route_key_kept_whole() -> None:
    assert parse_apigateway('{"routeKey":"$default"}')["route"] == "$default"


def test_parse_apigateway_dash_and_empty_values_are_null() -> None:
    assert parse_apigateway('{"status":"-","responseLength":"","ip":"-","caller":"-"}') == {}


def test_parse_apigateway_unreadable_number_stays_in_fields() -> None:
    assert parse_apigateway('{"status":"2xx","responseLength":"-1","responseLatency":"fast"}') == {
        "fields": {"status": "2xx", "responseLength": "-1", "responseLatency": "fast"}
    }


def test_parse_apigateway_protocol_not_the_ip_protocol_column() -> None:
    parsed = parse_apigateway('{"protocol":"HTTP/1.1"}')
    assert "protocol" not in parsed and parsed["fields"] == {"protocol": "HTTP/1.1"}


def test_parse_apigateway_clf_line_fills_columns() -> None:
    message = f'203.0.113.7 - - [01/Jun/2024:12:00:00 +0000] "GET /orders/{{id}} HTTP/1.1" 200 1234 {RID}'
    assert parse_apigateway(message) == {
        "source_ip": "203.0.113.7",
        "request_id": RID,
        "http_method": "GET",
        "route": "/orders/{id}",
        "status_code": 200,
        "response_length": 1234,
        "fields": {"requestTime": "01/Jun/2024:12:00:00 +0000", "protocol": "HTTP/1.1"},
    }


def test_parse_apigateway_clf_http_api_route_key_in_quotes() -> None:
    parsed = parse_apigateway('203.0.113.9 - - [01/Jun/2024:12:00:02 +0000] "GET GET /pets/{id} HTTP/1.1" 404 - Yq=')
    assert parsed["route"] == "/pets/{id}" and parsed["http_method"] == "GET"
    assert "response_length" not in parsed
    assert parsed["fields"]["routeKey"] == "GET /pets/{id}"


def test_parse_apigateway_clf_caller_and_user_kept() -> None:
    parsed = parse_apigateway('198.51.100.23 AIDA1 arn:aws:iam::1:user/a [t] "POST /orders HTTP/1.1" 201 87 r-2')
    assert parsed["fields"] == {
        "caller": "AIDA1",
        "user": "arn:aws:iam::1:user/a",
        "requestTime": "t",
        "protocol": "HTTP/1.1",
    }


@pytest.mark.parametrize(
    "message",
    [
        "",
        "this line is not an access log",
        '203.0.113.7 - - [t] "GET /x HTTP/1.1" abc 12 r',
        '203.0.113.7 - - [t] "GET" 200 12 r',
        '203.0.113.7 - - [t] "GET /x HTTP/1.1" 200',
    ],
)
def test_parse_apigateway_other_text_raises_not_apigateway(message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_apigateway(message)
    assert info.value.code == "not_apigateway"


def test_parse_apigateway_broken_json_raises_not_json() -> None:
    with pytest.raises(ParseError) as info:
        parse_apigateway('{"requestId":"x"')
    assert info.value.code == "not_json"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("503", {"status_code": 503, "latency_ms": 503.0}),
        (503, {"status_code": 503, "latency_ms": 503.0}),
        (12.5, {"latency_ms": 12.5, "fields": {"status": "12.5"}}),
        ("12.5", {"latency_ms": 12.5, "fields": {"status": "12.5"}}),
        (True, {"fields": {"status": "true", "responseLatency": "true"}}),
        ("4294967296", {"latency_ms": 4294967296.0, "fields": {"status": "4294967296"}}),
        ({"a": 1}, {"fields": {"status": '{"a":1}', "responseLatency": '{"a":1}'}}),
    ],
)
def test_parse_apigateway_numbers_read_alike_from_json_numbers_and_strings(value: object, expected: dict) -> None:
    assert parse_apigateway(json.dumps({"status": value, "responseLatency": value})) == expected


def test_parse_apigateway_first_key_for_a_column_wins_and_others_stay_in_fields() -> None:
    parsed = parse_apigateway(json.dumps({"ip": "203.0.113.7", "sourceIp": "198.51.100.1", "latency": 5}))
    assert parsed == {"source_ip": "203.0.113.7", "latency_ms": 5.0, "fields": {"sourceIp": "198.51.100.1"}}
