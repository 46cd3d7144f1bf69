"""Shape stage: parsed fields plus the envelope into one row with exactly the Glue columns.

Input: a ``Payload``, one ``LogEvent``, the detected source, the parser's ``ParsedFields`` and the
record's arrival time. Output: a row, ``dict[str, value]`` keyed by column names from ``schema``,
JSON-ready (timestamps as ISO-8601 text), nulls omitted. A value that does not fit its column is
left out and named in ``parse_error``; the row itself is never lost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Final

from transform_lambda.decode import LogEvent, Payload
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
    ColumnValue,
)
from transform_lambda.timefmt import iso_from_epoch_ms

Row = dict[str, ColumnValue]

# Columns only shape fills; a parser cannot override them.
ENVELOPE_COLUMNS: Final = frozenset(
    {
        "event_time",
        "arrival_time",
        "event_id",
        "account_id",
        "log_group",
        "log_stream",
        "source",
        "message",
        "parse_error",
    }
)
# Key in extractedFields that carries the real source account of a centralized log group.
_EXTRACTED_ACCOUNT: Final = "@aws.account"


_STR: Final = frozenset({str})


class _Misfit(Exception):
    """A value does not fit its column (internal to shape)."""


def _string(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _Misfit


def _integer(bounds: tuple[int, int]) -> Callable[[object], int]:
    low, high = bounds

    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise _Misfit

    return check


def _double(value: object) -> float:
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53:
        return float(value)
    raise _Misfit


def _timestamp(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        iso = iso_from_epoch_ms(value)
        if iso is not None:
            return iso
    raise _Misfit


def _string_map(value: object) -> dict[str, str]:
    if type(value) is dict and _STR.issuperset(map(type, value)) and _STR.issuperset(map(type, value.values())):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return value
    raise _Misfit


_CHECKS: Final[dict[str, Callable[[object], ColumnValue]]] = {
    STRING: _string,
    INT: _integer(INT_RANGE),
    BIGINT: _integer(BIGINT_RANGE),
    DOUBLE: _double,
    TIMESTAMP: _timestamp,
    STRING_MAP: _string_map,
}
_COLUMN_CHECKS: Final = {name: _CHECKS[kind] for name, kind in COLUMN_TYPES.items()}
# What a parser may fill, with its check; string columns also listed apart, as most values are
# strings and ``type(value) is str`` is all their check needs.
_PARSED_CHECKS: Final = {name: check for name, check in _COLUMN_CHECKS.items() if name not in ENVELOPE_COLUMNS}
# The Hive type of each column a parser may fill.
_PARSED_KINDS: Final = {name: COLUMN_TYPES[name] for name in _PARSED_CHECKS}
_INT_LOW, _INT_HIGH = INT_RANGE
_BIG_LOW, _BIG_HIGH = BIGINT_RANGE


def shape_row(
    payload: Payload,
    event: LogEvent,
    source: str,
    message: str,
    parsed: Mapping[str, ColumnValue],
    parse_error: str | None,
    arrival_time: str | None,
) -> Row:
    """Build the row of one log event; misfit values are dropped and named in ``parse_error``."""
    errors: list[str] = [parse_error] if parse_error else []
    timestamp = event.timestamp
    event_time = iso_from_epoch_ms(timestamp) if timestamp is not None else None
    extracted = event.extracted_fields
    account = (extracted.get(_EXTRACTED_ACCOUNT) if extracted else None) or payload.owner
    row: Row
    if event_time is not None and arrival_time is not None and event.id:
        row = {
            "event_time": event_time,
            "arrival_time": arrival_time,
            "event_id": event.id,
            "account_id": account,
            "log_group": payload.log_group,
            "log_stream": payload.log_stream,
            "source": source,
            "message": message,
        }
    else:
        row = {}
        if event_time is not None:
            row["event_time"] = event_time
        else:
            errors.append("bad_timestamp")
        if arrival_time is not None:
            row["arrival_time"] = arrival_time
        if event.id:
            row["event_id"] = event.id
        row["account_id"] = account
        row["log_group"] = payload.log_group
        row["log_stream"] = payload.log_stream
        row["source"] = source
        row["message"] = message
    fields: dict[str, str] | None = dict(extracted) if extracted else None
    kinds = _PARSED_KINDS
    for name, value in parsed.items():
        # The common cases inline (each gives what its column's check would); the rest via the check.
        kind = kinds.get(name)
        if type(value) is str:
            if kind == STRING:
                row[name] = value
                continue
        elif type(value) is int:
            if (kind == INT and _INT_LOW <= value <= _INT_HIGH) or (kind == BIGINT and _BIG_LOW <= value <= _BIG_HIGH):
                row[name] = value
                continue
            if kind == TIMESTAMP and (iso := iso_from_epoch_ms(value)) is not None:
                row[name] = iso
                continue
        elif type(value) is float:
            if kind == DOUBLE and -math.inf < value < math.inf:
                row[name] = value
                continue
        elif value is None:
            continue
        elif (
            type(value) is dict
            and kind == STRING_MAP
            and _STR.issuperset(map(type, value))
            and _STR.issuperset(map(type, value.values()))
        ):
            fields = {**fields, **value} if fields else value
            continue
        check = _PARSED_CHECKS.get(name)
        if check is None:
            errors.append(f"unknown_column:{name}")
            continue
        try:
            fitted = check(value)
        except _Misfit:
            errors.append(f"bad_value:{name}")
            continue
        if isinstance(fitted, dict):  # only the ``fields`` column holds a map
            fields = {**fields, **fitted} if fields else fitted
        else:
            row[name] = fitted
    if fields:
        row["fields"] = fields
    if errors:
        row["parse_error"] = ";".join(errors)
    return row


__all__ = ["ENVELOPE_COLUMNS", "Row", "shape_row"]
