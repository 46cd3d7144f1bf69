"""Shape stage: parsed fields plus the envelope into one row with exactly the Glue columns.

Input: a ``Payload``, one ``LogEvent``, the detected source, the parser's ``ParsedFields`` and the
record's arrival time. Output: a row, ``dict[str, value]`` keyed by column names from ``schema``,
JSON-ready (timestamps as ISO-8601 text), nulls omitted. Parsers hand over values that already fit
their columns (the parser contract in ``parse``, property-tested for every parser on every run), so
shape takes them as they are; a key that is not a column a parser may fill is left out and named in
``parse_error``. The row itself is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from transform_lambda.decode import LogEvent, Payload
from transform_lambda.schema import COLUMN_NAMES, ColumnValue
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
# What a parser may fill: every other column.
PARSED_COLUMNS: Final = COLUMN_NAMES - ENVELOPE_COLUMNS
# Key in extractedFields that carries the real source account of a centralized log group.
_EXTRACTED_ACCOUNT: Final = "@aws.account"
_FIELDS: Final = "fields"


def shape_row(
    payload: Payload,
    event: LogEvent,
    source: str,
    message: str,
    parsed: Mapping[str, ColumnValue],
    parse_error: str | None,
    arrival_time: str | None,
) -> Row:
    """Build the row of one log event; keys a parser may not fill are dropped and named in
    ``parse_error``."""
    errors: list[str] = [parse_error] if parse_error else []
    timestamp = event.timestamp
    event_time = iso_from_epoch_ms(timestamp) if timestamp is not None else None
    extracted = event.extracted_fields
    account = (extracted.get(_EXTRACTED_ACCOUNT) if extracted else None) or payload.owner
    fits = PARSED_COLUMNS.issuperset(parsed)
    row: Row = {}
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
    row.update(parsed if fits else _known(parsed, errors))
    if extracted:
        parsed_fields = row.get(_FIELDS)
        row[_FIELDS] = {**extracted, **parsed_fields} if isinstance(parsed_fields, dict) else dict(extracted)
    if errors:
        row["parse_error"] = ";".join(errors)
    return row


def _known(parsed: Mapping[str, ColumnValue], errors: list[str]) -> dict[str, ColumnValue]:
    """The columns a parser may fill, in its order; every other key named in ``errors``."""
    known: dict[str, ColumnValue] = {}
    for name, value in parsed.items():
        if name in PARSED_COLUMNS:
            known[name] = value
        else:
            errors.append(f"unknown_column:{name}")
    return known


__all__ = ["ENVELOPE_COLUMNS", "PARSED_COLUMNS", "Row", "shape_row"]
