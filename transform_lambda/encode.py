"""Encode stage: rows into the newline-delimited JSON one Firehose record carries.

Input: rows (dicts of column -> JSON-ready value). Output: UTF-8 NDJSON bytes, compact, one row per
line, in event order. Firehose's record format conversion reads back-to-back JSON objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from transform_lambda.errors import EncodeError
from transform_lambda.schema import ColumnValue

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_rows(rows: Sequence[dict[str, ColumnValue]]) -> bytes:
    """Serialize rows as compact NDJSON.

    Raises:
        EncodeError: a row holds a value JSON cannot carry.
    """
    encode = _ENCODER.encode
    try:
        text = "\n".join([encode(row) for row in rows])
    except (TypeError, ValueError) as exc:
        raise EncodeError("unserializable", type(exc).__name__) from exc
    if not text:
        return b""
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # Lone surrogates (from "\ud800"-style escapes in the payload) cannot be UTF-8; replace
        # them with U+FFFD rather than lose the row. Valid pairs survive the round trip.
        fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return fixed.encode("utf-8", "replace") + b"\n"


__all__ = ["encode_rows"]
