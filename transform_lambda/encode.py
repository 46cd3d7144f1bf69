"""Encode stage: rows into the newline-delimited JSON one Firehose record carries.

Input: rows (dicts of column -> JSON-ready value). Output: UTF-8 NDJSON bytes, compact, one row per
line, in event order. Firehose's record format conversion reads back-to-back JSON objects. Each row
is spelled exactly as ``json`` spells it (compact separators, non-ASCII kept); ``accel.dumps_row``
(orjson) writes the same bytes faster, and hands back the rows it might spell differently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Final

from transform_lambda import accel
from transform_lambda.errors import EncodeError
from transform_lambda.schema import COLUMN_TYPES, DOUBLE, ColumnValue

DOUBLE_COLUMNS: Final = frozenset(name for name, kind in COLUMN_TYPES.items() if kind == DOUBLE)
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_rows(rows: Sequence[dict[str, ColumnValue]]) -> bytes:
    """Serialize rows as compact NDJSON.

    Raises:
        EncodeError: a row holds a value JSON cannot carry.
    """
    return _ndjson(encode_lines(rows))


def encode_lines(rows: Sequence[dict[str, ColumnValue]]) -> list[bytes]:
    """Each row's JSON line, without its newline (``encode_rows`` joins them).

    Raises:
        EncodeError: a row holds a value JSON cannot carry.
    """
    dumps = accel.dumps_row
    lines: list[bytes] = []
    append = lines.append
    try:
        for row in rows:
            line = dumps(row)
            append(line if line is not None else _encode_row(row))
    except (TypeError, ValueError) as exc:
        raise EncodeError("unserializable", type(exc).__name__) from exc
    return lines


def encode_shaped_rows(rows: Sequence[dict[str, ColumnValue]]) -> bytes:
    """``encode_rows`` for rows as ``shape.shape_row`` builds them (schema values only, floats only
    in double columns): the same bytes, with less checking per row.

    Raises:
        EncodeError: a row holds a value JSON cannot carry.
    """
    return _ndjson(encode_shaped_lines(rows))


def encode_shaped_lines(rows: Sequence[dict[str, ColumnValue]]) -> list[bytes]:
    """``encode_lines`` for rows as ``shape.shape_row`` builds them (see ``encode_shaped_rows``).

    Raises:
        EncodeError: a row holds a value JSON cannot carry.
    """
    lines = accel.dumps_rows(rows, DOUBLE_COLUMNS)
    return lines if lines is not None else encode_lines(rows)


def _ndjson(lines: list[bytes]) -> bytes:
    """Lines joined, each ending with a newline."""
    if not lines:
        return b""
    lines.append(b"")
    return b"\n".join(lines)


def _encode_row(row: dict[str, ColumnValue]) -> bytes:
    text = _spell(row)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from "\ud800"-style escapes in the payload) cannot be UTF-8; replace
        # them with U+FFFD rather than lose the row. Valid pairs survive the round trip.
        fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return fixed.encode("utf-8", "replace")


def _spell(row: dict[str, ColumnValue]) -> str:
    """``json``'s compact spelling of a row; rows of strings, ints, finite floats and string maps
    are written directly (a third faster than the encoder), anything else by the encoder."""
    parts: list[str] = []
    for key, value in row.items():
        if type(key) is not str:
            return _ENCODER.encode(row)
        if type(value) is str:
            parts.append(f"{encode_basestring(key)}:{encode_basestring(value)}")
        elif type(value) is int or (type(value) is float and math.isfinite(value)):
            parts.append(f"{encode_basestring(key)}:{value!r}")
        elif type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
            pairs = ",".join([f"{encode_basestring(k)}:{encode_basestring(v)}" for k, v in value.items()])
            parts.append(f"{encode_basestring(key)}:{{{pairs}}}")
        else:
            return _ENCODER.encode(row)
    return "{" + ",".join(parts) + "}"


__all__ = ["DOUBLE_COLUMNS", "encode_lines", "encode_rows", "encode_shaped_lines", "encode_shaped_rows"]
