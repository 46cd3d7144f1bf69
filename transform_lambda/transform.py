"""Detect, parse and shape every log event of one payload.

Input: a DATA_MESSAGE ``Payload``, the record's arrival time and the config. Output: ``PayloadRows``
(rows in event order, the source, and how many rows carry a parse error). A parser failure never
escapes: the row keeps the raw message, what a plain-text pass could fill, and ``parse_error``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transform_lambda.config import TransformConfig
from transform_lambda.decode import LogEvent, Payload
from transform_lambda.detect import detect_source
from transform_lambda.errors import ParseError
from transform_lambda.parse import Parser
from transform_lambda.parse.plain import parse_plain
from transform_lambda.schema import ColumnValue
from transform_lambda.shape import PARSED_COLUMNS, Row, shape_row
from transform_lambda.timefmt import MAX_EPOCH_MS, MILLIS_SUFFIXES, MIN_EPOCH_MS, second_prefix


@dataclass(frozen=True, slots=True)
class PayloadRows:
    """The rows of one payload and what detection and parsing made of it."""

    source: str
    rows: list[Row]
    parse_errors: int


def transform_payload(payload: Payload, arrival_time: str | None, config: TransformConfig) -> PayloadRows:
    """Turn each log event of a DATA_MESSAGE payload into one row, in order."""
    source, parser = detect_source(payload, config)
    return shape_events(payload, source, parser, arrival_time)


def shape_events(
    payload: Payload,
    source: str,
    parser: Parser,
    arrival_time: str | None,
    events: Sequence[LogEvent] | None = None,
) -> PayloadRows:
    """Parse each event of ``payload`` (or only ``events``, some of its events) with ``parser`` and
    shape its row.

    The usual row (parsed cleanly, into columns a parser may fill; a timestamp in range, an id, an
    arrival time, no extracted fields) is built here in one dict literal, with the payload's values
    and the last event's second at hand; every other row is left to ``shape_row``, which gives the
    usual row the same keys in the same order (a property test holds the two to each other).
    """
    rows: list[Row] = []
    append = rows.append
    parse_errors = 0
    group, stream, owner = payload.log_group, payload.log_stream, payload.owner
    fits = PARSED_COLUMNS.issuperset
    last_second, prefix = -1, ""
    for event in payload.log_events if events is None else events:
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
        ts = event.timestamp
        if (
            parse_error is None
            and ts is not None
            and MIN_EPOCH_MS <= ts <= MAX_EPOCH_MS
            and event.id
            and arrival_time is not None
            and event.extracted_fields is None
            and fits(parsed)
        ):
            second = ts // 1000
            if second != last_second:
                last_second, prefix = second, second_prefix(second)
            append(
                {
                    "event_time": prefix + MILLIS_SUFFIXES[ts - second * 1000],
                    "arrival_time": arrival_time,
                    "event_id": event.id,
                    "account_id": owner,
                    "log_group": group,
                    "log_stream": stream,
                    "source": source,
                    "message": message,
                    **parsed,
                }
            )
            continue
        row = shape_row(payload, event, source, message, parsed, parse_error, arrival_time)
        if "parse_error" in row:
            parse_errors += 1
        append(row)
    return PayloadRows(source, rows, parse_errors)


__all__ = ["PayloadRows", "shape_events", "transform_payload"]
