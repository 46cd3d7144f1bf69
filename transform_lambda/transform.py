"""Detect, parse and shape every log event of one payload.

Input: a DATA_MESSAGE ``Payload``, the record's arrival time and the config. Output: ``PayloadRows``
(rows in event order, the source, and how many rows carry a parse error). A parser failure never
escapes: the row keeps the raw message, what a plain-text pass could fill, and ``parse_error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from transform_lambda.config import TransformConfig
from transform_lambda.decode import Payload
from transform_lambda.detect import detect_source
from transform_lambda.errors import ParseError
from transform_lambda.parse.plain import parse_plain
from transform_lambda.schema import ColumnValue
from transform_lambda.shape import Row, shape_row


@dataclass(frozen=True, slots=True)
class PayloadRows:
    """The rows of one payload and what detection and parsing made of it."""

    source: str
    rows: list[Row]
    parse_errors: int


def transform_payload(payload: Payload, arrival_time: str | None, config: TransformConfig) -> PayloadRows:
    """Turn each log event of a DATA_MESSAGE payload into one row, in order."""
    source, parser = detect_source(payload, config)
    rows: list[Row] = []
    parse_errors = 0
    for event in payload.log_events:
        message = event.message.rstrip("\r\n")
        parse_error: str | None = None
        parsed: dict[str, ColumnValue]
        try:
            parsed = parser(message)
        except ParseError as exc:
            parse_error = exc.code
            parsed = parse_plain(message)
        except Exception as exc:  # a parser bug must not cost the row; counted via parse_error
            parse_error = f"parser_crash:{type(exc).__name__}"
            parsed = {}
        row = shape_row(payload, event, source, message, parsed, parse_error, arrival_time)
        if "parse_error" in row:
            parse_errors += 1
        rows.append(row)
    return PayloadRows(source, rows, parse_errors)


__all__ = ["PayloadRows", "transform_payload"]
