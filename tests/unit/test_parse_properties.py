"""Property-based tests of the parsers and the transform loop: whatever the message, no parser
raises anything but ParseError, the raw message survives, and every row fits the schema."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from transform_lambda.config import TransformConfig
from transform_lambda.decode import LogEvent, Payload
from transform_lambda.encode import encode_rows
from transform_lambda.errors import ParseError
from transform_lambda.parse import PARSERS, Parser
from transform_lambda.parse.vpc_flow import make_vpc_flow_parser
from transform_lambda.schema import (
    BIGINT,
    BIGINT_RANGE,
    COLUMN_TYPES,
    DOUBLE,
    INT,
    INT_RANGE,
    STRING,
    STRING_MAP,
    TIMESTAMP,
)
from transform_lambda.shape import PARSED_COLUMNS
from transform_lambda.transform import transform_payload

# `make fuzz` raises FUZZ_EXAMPLES; every test run keeps the bounded default.
BOUNDED = settings(
    max_examples=max(200, int(os.environ.get("FUZZ_EXAMPLES", "200"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CUSTOM_FORMAT = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status vpc-id tcp-flags flow-direction"
)
CUSTOM_VPC = make_vpc_flow_parser(CUSTOM_FORMAT.split())
ALL_PARSERS: dict[str, Parser] = {**PARSERS, "vpc_flow_custom": CUSTOM_VPC}

# Real-format messages to mutate: every message of our fixture payloads.
SAMPLES = sorted(
    {
        event["message"]
        for path in sorted((FIXTURES / "payloads").glob("*/*.json"))
        for event in json.loads(path.read_text())["logEvents"]
    }
)
_TOKENS = re.compile(r"(\s+|[:,\"{}\[\]=/])")
ODD_VALUES = [
    "-", "", "nan", "inf", "1e999", "-1", "+1", "1_0", "99999999999999999999", "4294967296", "٣", "\x00",
    "\ud800", "\udfff", "null", "{}", "[]", "true", "ERROR", "\n", "\t", " ", "\r\n", '"', "{", "platform.report",
]  # fmt: skip

any_char = st.characters(exclude_categories=())  # includes surrogates and NUL
any_text = st.text(alphabet=any_char, max_size=300)
odd_token = st.sampled_from(ODD_VALUES) | st.text(alphabet=any_char, max_size=6)


@st.composite
def near_miss(draw: st.DrawFn) -> str:
    """A real-format message with 1-3 tokens replaced, or cut short."""
    parts = _TOKENS.split(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        parts[draw(st.integers(0, len(parts) - 1))] = draw(odd_token)
    text = "".join(parts)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(alphabet=any_char, max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
KNOWN_KEYS = [
    "level", "severity", "log.level", "msg", "message", "requestId", "request_id", "xray_trace_id", "traceId",
    "type", "record", "metrics", "durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB",
    "initDurationMs", "tracing", "value", "status", "responseLength", "responseLatency", "integrationLatency",
    "routeKey", "httpMethod", "ip", "eventName", "eventSource", "userIdentity", "arn", "sessionContext",
    "sessionIssuer", "attributes", "mfaAuthenticated", "readOnly",
]  # fmt: skip
json_objects = st.recursive(
    st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6), json_values, max_size=6),
    lambda children: st.dictionaries(st.sampled_from(KNOWN_KEYS), children | json_values, max_size=5),
    max_leaves=12,
)
# Typed-column inputs with odd values: platform metrics and API Gateway numbers.
EDGE_NUMBERS = [math.nan, math.inf, -math.inf, -1.0, -1, 1e300, 2**31, 2**53 + 1, 2**63, 2**64, 0.5, True, None]
odd_json = st.sampled_from(EDGE_NUMBERS) | st.sampled_from(ODD_VALUES) | json_values | st.integers(-(2**70), 2**70)
platform_events = st.builds(
    lambda kind, metrics: json.dumps({"type": kind, "record": {"requestId": "r", "metrics": metrics}}),
    st.sampled_from(["platform.report", "platform.initReport", "platform.runtimeDone"]),
    st.dictionaries(
        st.sampled_from(["durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"]),
        odd_json,
    ),
)
access_logs = st.builds(
    json.dumps,
    st.dictionaries(
        st.sampled_from(["status", "responseLength", "responseLatency", "integrationLatency", "routeKey", "ip"]),
        odd_json,
    ),
)
json_ish = st.builds(json.dumps, json_objects)
# CloudTrail-shaped objects: the two keys the parser needs, then any mix of the keys it reads.
CLOUDTRAIL_KEYS = [
    "eventVersion", "eventID", "eventTime", "eventType", "awsRegion", "sourceIPAddress", "userAgent",
    "errorCode", "errorMessage", "requestID", "recipientAccountId", "readOnly", "userIdentity",
]  # fmt: skip
cloudtrail_events = st.builds(
    lambda name, source, rest: json.dumps({"eventName": name, "eventSource": source, **rest}),
    st.text(min_size=1, max_size=12),
    st.text(min_size=1, max_size=20),
    st.dictionaries(st.sampled_from(CLOUDTRAIL_KEYS), json_values | json_objects, max_size=4),
)
messages = st.one_of(
    any_text, near_miss(), json_ish, platform_events, access_logs, cloudtrail_events, st.sampled_from(SAMPLES)
)


def check_value(column: str, value: object) -> None:
    """``value`` has the JSON type of ``column``'s Hive type, as a row carries it: timestamps as
    ISO-8601 text, no nulls, no empty maps (the parser contract, which shape relies on)."""
    kind = COLUMN_TYPES[column]
    if kind == STRING:
        assert isinstance(value, str), column
    elif kind in (INT, BIGINT):
        low, high = INT_RANGE if kind == INT else BIGINT_RANGE
        assert isinstance(value, int) and not isinstance(value, bool) and low <= value <= high, column
    elif kind == DOUBLE:
        assert isinstance(value, float) and math.isfinite(value), column
    elif kind == TIMESTAMP:
        assert isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value), column
    elif kind == STRING_MAP:
        assert isinstance(value, dict) and value, column
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()), column
    else:  # pragma: no cover - a new Hive type needs a check here
        raise AssertionError(kind)


def run_parser(parser: Parser, message: str) -> dict[str, Any] | None:
    try:
        return parser(message)
    except ParseError as exc:
        assert exc.code and " " not in exc.code
        return None


@BOUNDED
@given(message=messages)
@example(message='{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com"}')  # no fields: none, not {}
def test_parse_any_message_returns_schema_values_or_raises_parse_error(message: str) -> None:
    for name, parser in ALL_PARSERS.items():
        parsed = run_parser(parser, message)
        if parsed is None:
            assert name != "lambda" and name != "text", "lambda and text never raise"
            continue
        for column, value in parsed.items():
            assert column in PARSED_COLUMNS, (name, column)
            check_value(column, value)


names = st.text(alphabet=any_char, min_size=1, max_size=40) | st.sampled_from(
    ["/aws/lambda/fn", "aws-cloudtrail-logs-1", "/aws/apigateway/x/access", "/vpc/flow-logs", "/net/custom-1"]
)
streams = st.text(alphabet=any_char, min_size=1, max_size=40) | st.sampled_from(
    ["eni-0a1b-all", "123456789012_CloudTrail_us-east-1", "2024/06/01/[$LATEST]abc"]
)
CONFIG = TransformConfig(
    source_rules=(("/app/json*", "json"), ("/app/text*", "text")),
    vpc_flow_formats=(("/net/custom-*", ("version", "srcaddr", "dstaddr", "srcport", "start", "flow-direction")),),
)


@BOUNDED
@given(
    group=names,
    stream=streams,
    owner=st.text(alphabet=any_char, max_size=12),
    events=st.lists(
        st.tuples(
            st.text(max_size=56),
            st.none() | st.integers(-(2**63), 2**63),
            messages | any_text.map(lambda t: t + "\r\n"),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_parse_transform_keeps_every_message_and_fits_schema(
    group: str, stream: str, owner: str, events: list[tuple[str, int | None, str]]
) -> None:
    log_events = tuple(LogEvent(event_id, ts, message) for event_id, ts, message in events)
    payload = Payload("DATA_MESSAGE", owner, group, stream, ("f",), log_events)
    result = transform_payload(payload, None, CONFIG)
    assert len(result.rows) == len(events)
    for row, (_, _, message) in zip(result.rows, events, strict=True):
        assert row["message"] == message.rstrip("\r\n")
        assert row["source"] in PARSERS
        error = row.get("parse_error")
        assert not isinstance(error, str) or not any(
            bad in error for bad in ("parser_crash", "bad_value", "unknown_column")
        ), error
        for column, value in row.items():
            assert column in COLUMN_TYPES
            check_value(column, value)
    encode_rows(result.rows)  # never raises, even for lone surrogates
