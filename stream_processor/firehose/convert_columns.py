"""Convert stage, columnar fast path: the ``Ok`` records of one batch into one Arrow table at once.

Input: each record's decoded ``data`` (one JSON object a line, as the transform writes them). Output:
per record, a ``ConvertedRecord`` whose rows are a slice of the batch's table; or ``None`` for the
whole batch on anything unusual (accelerators off, a line that is not one object, a value of a kind
or range its column might refuse, a timestamp not spelled as the transform spells it). Then
``convert_record`` decides every record, so failures and their messages are always the row path's,
and the fast path only ever produces the rows that path would have produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from stream_processor.firehose.convert import ConvertedRecord, arrow_schema
from transform_lambda import accel
from transform_lambda.schema import COLUMN_NAMES, COLUMN_TYPES

_NONE: Final = type(None)
# The Python kinds (from orjson) a column takes here. String and timestamp columns are built as
# Arrow strings, which refuse every kind orjson yields but str (bytes, the one other they take, it
# never yields); numbers and maps need the check because Arrow would turn 1.5 into the int 1, True
# into the double 1.0 and {"a": null} into a map entry.
_KINDS: Final[dict[str, frozenset[type]]] = {
    "int": frozenset({int, _NONE}),
    "bigint": frozenset({int, _NONE}),
    "double": frozenset({int, float, _NONE}),
    "boolean": frozenset({bool, _NONE}),
    "map<string,string>": frozenset({dict, _NONE}),
}
# How the transform writes a timestamp (timefmt.iso_from_epoch_ms). Arrow's parser would also take
# zone offsets, a space or a short fraction, which the row path reads differently or refuses.
_TRANSFORM_TIMESTAMP: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
_UTC_MS: Final = pa.timestamp("ms", tz="UTC")
# 0001-01-01T00:00:00Z: Python's datetime starts at year 1, Arrow's parser also reads year 0.
_FIRST_MS: Final = -62_135_596_800_000
_ARROW_ERRORS: Final = (pa.ArrowException, OverflowError)


class _Unusual(Exception):
    """A value the fast path leaves to the row path."""


def convert_batch(datas: Sequence[bytes]) -> list[ConvertedRecord] | None:
    """Every record's rows as a slice of one table, or None to convert record by record."""
    read = _read_columns(datas)
    if read is None:
        return None
    columns, docs, bounds = read
    schema = arrow_schema()
    try:
        arrays = [_array(columns.get(field.name), field, len(docs)) for field in schema]
    except (_Unusual, *_ARROW_ERRORS):
        return None
    table = pa.Table.from_arrays(arrays, schema=schema)
    unknown = columns.keys() - COLUMN_NAMES
    return [
        ConvertedRecord(
            [], None, _count_unknown(docs[start:end], unknown), table.slice(start, end - start), table, start
        )
        for start, end in pairwise(bounds)
    ]


def _read_columns(datas: Sequence[bytes]) -> tuple[dict[str, list[object]], list[dict[str, object]], list[int]] | None:
    """Every key's values, row-aligned (None where a row lacks the key), the objects, and where each
    record's rows start and end; None when a line is not one JSON object (or nothing was read).
    Each object's values are filed as soon as it is read, while it is still in the CPU cache."""
    most = sum(data.count(b"\n") + 1 for data in datas)  # lines, an upper bound on rows
    columns: dict[str, list[object]] = {}
    docs: list[dict[str, object]] = []
    bounds = [0]
    loads = accel.loads
    index = 0
    for data in datas:
        for line in data.split(b"\n"):
            if not line:
                continue
            doc = loads(line)
            if type(doc) is not dict:
                return None
            docs.append(doc)
            for key, value in doc.items():
                column = columns.get(key)
                if column is None:
                    column = columns[key] = [None] * most
                column[index] = value
            index += 1
        bounds.append(index)
    if not index:
        return None
    for column in columns.values():
        del column[index:]
    return columns, docs, bounds


def _array(values: list[object] | None, field: pa.Field[Any], count: int) -> pa.Array[Any]:
    """One column's array, as ``rows_to_table`` builds it from checked rows.

    Raises:
        _Unusual: a value the row path must judge (Arrow's own refusals raise its errors).
    """
    if values is None:
        nulls: pa.Array[Any] = pa.nulls(count, field.type)
        return nulls
    hive = COLUMN_TYPES[field.name]
    kinds = _KINDS.get(hive)
    if kinds is not None and not kinds.issuperset(map(type, values)):
        raise _Unusual(field.name)
    if hive == "timestamp":
        return _timestamps(pa.array(values, type=pa.string()))
    array: pa.Array[Any] = pa.array(values, type=field.type)
    if hive == "double" and array.null_count < len(array) and not pc.all(pc.is_finite(array)).as_py():
        raise _Unusual(field.name)
    if isinstance(array, pa.MapArray) and array.items.null_count:
        raise _Unusual(field.name)
    return array


def _timestamps(text: pa.Array[Any]) -> pa.Array[Any]:
    """Transform-spelled UTC timestamps into epoch milliseconds, as ``convert._timestamp`` reads them.

    Raises:
        _Unusual: a value spelled otherwise, or before year 1 (Arrow raises for invalid dates).
    """
    if text.null_count < len(text):
        if not pc.all(pc.match_substring_regex(text, _TRANSFORM_TIMESTAMP)).as_py():
            raise _Unusual("timestamp spelling")
        utc = text.cast(_UTC_MS)
        if pc.min(utc.view(pa.int64())).as_py() < _FIRST_MS:
            raise _Unusual("timestamp before year 1")
        return utc.view(pa.timestamp("ms"))
    return pa.nulls(len(text), pa.timestamp("ms"))


def _count_unknown(docs: list[dict[str, object]], unknown: set[str]) -> int:
    """Keys outside the schema (dropped, as Firehose drops them), as ``_convert_doc`` counts them."""
    return sum(key in unknown for doc in docs for key in doc) if unknown else 0


__all__ = ["convert_batch"]
