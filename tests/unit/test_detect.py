"""Unit tests of detection: configured rules, configured VPC formats, built-in rules, sniffing."""

from __future__ import annotations

import pytest

from transform_lambda.config import TransformConfig, parse_source_rules, parse_vpc_flow_formats
from transform_lambda.decode import LogEvent, Payload
from transform_lambda.detect import detect_source, sniff_source
from transform_lambda.parse import PARSERS
from transform_lambda.parse.vpc_flow import make_vpc_flow_parser

V2 = (
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
)


def payload(group: str, stream: str = "s", first: str = "hello") -> Payload:
    return Payload("DATA_MESSAGE", "123456789012", group, stream, ("f",), (LogEvent("1", 1, first),))


@pytest.mark.parametrize(
    ("group", "stream", "source"),
    [
        ("/aws/lambda/orders-api", "2024/06/01/[$LATEST]abc", "lambda"),
        ("aws-cloudtrail-logs-123456789012-abc", "x", "cloudtrail"),
        ("CloudTrail/DefaultLogGroup", "123456789012_CloudTrail_us-east-1", "cloudtrail"),
        ("CloudTrail", "123456789012_CloudTrail_us-east-1_2", "cloudtrail"),
        ("API-Gateway-Access-Logs_a1b2c3/prod", "x", "apigateway"),
        ("/aws/apigateway/a1b2c3/prod/access", "x", "apigateway"),
        ("API-Gateway-Execution-Logs_a1b2c3/prod", "x", "text"),
        ("/my/network", "eni-0a1b2c3d4e5f67890-all", "vpc_flow"),
        ("/VPC/Flow-Logs", "x", "vpc_flow"),
        ("prod-flowlogs", "x", "vpc_flow"),
    ],
)
def test_detect_builtin_rules_pick_source(group: str, stream: str, source: str) -> None:
    detected, parser = detect_source(payload(group, stream), TransformConfig())
    assert detected == source
    assert parser is PARSERS[source]


def test_detect_configured_rule_overrides_builtin() -> None:
    config = TransformConfig(source_rules=parse_source_rules('{"/aws/lambda/legacy-*": "json"}'))
    assert detect_source(payload("/aws/lambda/legacy-app"), config)[0] == "json"
    assert detect_source(payload("/aws/lambda/other"), config)[0] == "lambda"


def test_detect_configured_rule_for_unknown_parser_is_skipped() -> None:
    config = TransformConfig(source_rules=(("/aws/lambda/*", "no-such-parser"),))
    assert detect_source(payload("/aws/lambda/x"), config)[0] == "lambda"


def test_detect_configured_rules_first_match_wins() -> None:
    config = TransformConfig(source_rules=(("/app/*", "text"), ("/app/json-*", "json")))
    assert detect_source(payload("/app/json-api", first="{}"), config)[0] == "text"


def test_detect_configured_vpc_format_gets_custom_parser() -> None:
    fields = "${version} ${srcaddr} ${dstaddr} ${flow-direction}"
    config = TransformConfig(vpc_flow_formats=parse_vpc_flow_formats(f'{{"/net/custom-*": "{fields}"}}'))
    source, parser = detect_source(payload("/net/custom-flows", "anything"), config)
    assert source == "vpc_flow"
    assert parser is make_vpc_flow_parser(["version", "srcaddr", "dstaddr", "flow-direction"])
    assert parser("5 10.0.0.1 10.0.0.2 egress") == {
        "src_addr": "10.0.0.1",
        "dst_addr": "10.0.0.2",
        "fields": {"version": "5", "flow_direction": "egress"},
    }


def test_detect_configured_vpc_format_applies_to_builtin_vpc_group() -> None:
    config = TransformConfig(vpc_flow_formats=(("*", ("version", "srcaddr")),))
    source, parser = detect_source(payload("/vpc/flow-logs", "eni-1-all"), config)
    assert source == "vpc_flow" and parser is make_vpc_flow_parser(["version", "srcaddr"])


def test_detect_configured_source_rule_beats_vpc_format() -> None:
    config = TransformConfig(source_rules=(("/net/*", "text"),), vpc_flow_formats=(("/net/*", ("srcaddr",)),))
    assert detect_source(payload("/net/x"), config)[0] == "text"


def test_detect_vpc_group_without_format_uses_default_parser() -> None:
    config = TransformConfig(vpc_flow_formats=(("/other/*", ("srcaddr",)),))
    assert detect_source(payload("/vpc/flow-logs"), config)[1] is PARSERS["vpc_flow"]


@pytest.mark.parametrize(
    ("first", "source"),
    [
        ('{"level":"info","msg":"x"}', "json"),
        ('  {"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject"}', "cloudtrail"),
        ('{"time":"t","type":"platform.report","record":{}}', "lambda"),
        ('{"requestId":"r","httpMethod":"GET","status":"200"}', "apigateway"),
        ('{"requestId":"r","routeKey":"GET /x"}', "apigateway"),
        ("START RequestId: 8f5a3e4e-1b2c-4d5e-9f60-7a8b9c0d1e2f Version: $LATEST\n", "lambda"),
        ("INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: arn", "lambda"),
        (V2, "vpc_flow"),
        ("2 123456789010 eni-1 - - - - - - - 1 2 - NODATA", "vpc_flow"),
        ("2 things happened", "text"),
        ("2024-01-01 ERROR boom", "text"),
        ("", "text"),
        ("START the engine", "text"),
    ],
)
def test_detect_sniffing_unnamed_group_guesses_source(first: str, source: str) -> None:
    assert sniff_source(first) == source
    assert detect_source(payload("/app/unnamed", "i-0abc", first), TransformConfig())[0] == source


def test_detect_sniffing_no_events_is_text() -> None:
    empty = Payload("DATA_MESSAGE", "1", "/app/x", "s", (), ())
    assert detect_source(empty, TransformConfig())[0] == "text"
