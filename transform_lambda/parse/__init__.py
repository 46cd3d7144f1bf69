"""Parse stage: one log event's message into typed column values, one parser per log format.

Input: the message text (trailing newline already stripped). Output: ``ParsedFields``, a dict of
schema column name -> value. The contract every parser keeps, and ``shape`` relies on without
checking again: only columns outside the envelope, each value already fitting its column (str;
int within the Hive int/bigint range; finite float; timestamps as ISO-8601 text; ``fields`` as a
non-empty dict[str, str]), no nulls (tests/unit/test_parse_properties.py checks every parser).
A parser raises ``ParseError`` for a message not of its format; ``transform`` keeps the raw message,
falls back to plain-text level detection and records the code in ``parse_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from transform_lambda.parse.apigateway import parse_apigateway
from transform_lambda.parse.cloudtrail import parse_cloudtrail
from transform_lambda.parse.json_log import parse_json_log
from transform_lambda.parse.lambda_log import parse_lambda
from transform_lambda.parse.plain import parse_plain
from transform_lambda.parse.vpc_flow import make_vpc_flow_parser, parse_vpc_flow
from transform_lambda.schema import ColumnValue

ParsedFields: TypeAlias = dict[str, ColumnValue]
Parser: TypeAlias = Callable[[str], ParsedFields]

# Parser name (the value of the ``source`` column) -> parser. Detection picks one per payload.
PARSERS: dict[str, Parser] = {
    "lambda": parse_lambda,
    "vpc_flow": parse_vpc_flow,
    "apigateway": parse_apigateway,
    "cloudtrail": parse_cloudtrail,
    "json": parse_json_log,
    "text": parse_plain,
}

__all__ = ["PARSERS", "ParsedFields", "Parser", "make_vpc_flow_parser"]
