"""Parse stage, generic JSON logs: conventional keys to columns, the rest into ``fields``.

Input: a message holding one JSON object. Output: ``level``, ``request_id``, ``trace_id`` from their
conventional keys, every other key into ``fields`` under its own name (strings as they are, other
values as compact JSON, nulls left out). Raises ParseError ``not_json`` for anything else.
"""

from __future__ import annotations

import json
import math
from typing import Final

from transform_lambda import accel
from transform_lambda.errors import ParseError
from transform_lambda.parse.levels import normalize_level
from transform_lambda.schema import ColumnValue

# Key -> column it fills. When a document has several keys for one column the first one (in the
# document's order) that holds a usable value wins; the others stay in ``fields``.
_KEY_COLUMNS: Final[dict[str, str]] = {
    **dict.fromkeys(("level", "severity", "lvl", "loglevel", "log_level", "levelname", "log.level"), "level"),
    **dict.fromkeys(
        (
            "request_id",
            "requestId",
            "requestID",
            "reqId",
            "req_id",
            "aws_request_id",
            "awsRequestId",
            "function_request_id",
        ),
        "request_id",
    ),
    **dict.fromkeys(
        ("trace_id", "traceId", "traceID", "xray_trace_id", "xrayTraceId", "trace.id", "dd.trace_id"),
        "trace_id",
    ),
}
_COMPACT: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def load_json_object(message: str) -> dict[str, object]:
    """Load a message that should be one JSON object.

    Raises:
        ParseError: ``not_json`` when it is not.
    """
    if not message.startswith("{"):
        raise ParseError("not_json")
    fast = accel.loads(message)
    if fast is not None and accel.exact_object(fast, message):
        return fast  # type: ignore[no-any-return]
    try:
        value = json.loads(message)
    except (ValueError, RecursionError) as exc:
        raise ParseError("not_json") from exc
    if not isinstance(value, dict):
        raise ParseError("not_json")
    return value


def to_field_string(value: object) -> str:
    """Render a JSON value as the string stored in ``fields`` (``true``, ``12``, ``{"a":1}``)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    try:
        return _COMPACT.encode(value)
    except RecursionError:
        return "null"  # unreachable for json.loads output (it refuses deeper nesting first)


def columns_from_json(doc: dict[str, object], out: dict[str, ColumnValue]) -> dict[str, ColumnValue]:
    """Fill ``out`` from a decoded JSON log object (level, ids, ``fields``) and return it."""
    fields: dict[str, str] = {}
    for key, value in doc.items():
        column = _KEY_COLUMNS.get(key)
        if column is not None and column not in out:
            if column == "level":
                level = normalize_level(value)
                if level is not None:
                    out["level"] = level
                    continue
            elif isinstance(value, str) and value:
                out[column] = value
                continue
        if type(value) is str:  # most values: skip the call
            fields[key] = value
        elif value is not None:
            fields[key] = to_field_string(value)
    if fields:
        out["fields"] = fields
    return out


def parse_json_log(message: str) -> dict[str, ColumnValue]:
    """Parse a JSON log line: level, request and trace ids, everything else to ``fields``.

    Raises:
        ParseError: ``not_json``.
    """
    return columns_from_json(load_json_object(message), {})


__all__ = ["columns_from_json", "load_json_object", "parse_json_log", "to_field_string"]
