"""Convert stage, columnar fast path: the ``Ok`` records of one batch into one Arrow table at once.

Input: each record's decoded ``data`` (one JSON object a line, as the transform writes them). Output:
per record, a ``ConvertedRecord`` whose rows are a slice of the batch's table, read by the C
(``_native_convert.c``, once ``stream_processor.native_twin`` loaded it; its buffers become the
table's through Arrow's C data interface) or by orjson and Python; or
``None`` for the whole batch on anything unusual (accelerators off, a line that is not one object, a value of a kind
or range its column might refuse, a timestamp not spelled as the transform spells it). Then
``convert_record`` decides every record, so failures and their messages are always the row path's,
and the fast path only ever produces the rows that path would have produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from types import ModuleType
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from stream_processor.firehose.convert import ConvertedRecord, arrow_schema
from transform_lambda import accel
from transform_lambda.schema import COLUMN_NAMES, COLUMN_TYPES, COLUMNS

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
# The C reader of the rows (``_native_convert``), when the twin's native build is loaded
# (``stream_processor.native_twin``), and the columns as it takes them: (name, kind code); None when
# the schema has a type it does not read.
_native: ModuleType | None = None
_KIND_CODES: Final = {"string": 0, "int": 1, "bigint": 2, "double": 3, "timestamp": 4, "map<string,string>": 5}
_NATIVE_COLUMNS: Final = (
    tuple((c.name, _KIND_CODES[c.type]) for c in COLUMNS) if all(c.type in _KIND_CODES for c in COLUMNS) else None
)


class _Unusual(Exception):
    """A value the fast path leaves to the row path."""


def use(module: ModuleType | None) -> None:
    """Read rows with this C reader from now on (``_native_convert``, built by
    ``stream_processor.native_twin``), or with none."""
    global _native
    _native = module


def convert_batch(datas: Sequence[bytes]) -> list[ConvertedRecord] | None:
    """Every record's rows as a slice of one table, or None to convert record by record. The C reader,
    when loaded, reads the usual batches; the Python path below reads the ones it leaves."""
    if _native is not None and _NATIVE_COLUMNS is not None and accel.active():
        native: tuple[int, list[int], list[int], pa.RecordBatch] | None = _native.read_rows(
            list(datas), _NATIVE_COLUMNS, import_batch
        )
        if native is not None:
            _, ends, dropped_keys, batch = native
            return _records(pa.Table.from_batches([batch]), [0, *ends], dropped_keys)
    read = _read_columns(datas)
    if read is None:
        return None
    columns, docs, bounds = read
    schema = arrow_schema()
    try:
        arrays = [_array(columns.get(field.name), field, len(docs)) for field in schema]
    except (_Unusual, *_ARROW_ERRORS):
        return None
    unknown = columns.keys() - COLUMN_NAMES
    dropped = [_count_unknown(docs[start:end], unknown) for start, end in pairwise(bounds)]
    return _records(pa.Table.from_arrays(arrays, schema=schema), bounds, dropped)


def _records(table: pa.Table, bounds: list[int], dropped: list[int]) -> list[ConvertedRecord]:
    """Each record's rows as a slice of the batch's table: record r's are rows bounds[r] to
    bounds[r + 1], and it had dropped[r] keys outside the schema."""
    return [
        ConvertedRecord([], None, keys, table, start, end - start)
        for (start, end), keys in zip(pairwise(bounds), dropped, strict=True)
    ]


def import_batch(address: int) -> pa.RecordBatch:
    """The C reader's record batch, at ``address`` as Arrow's C data interface lays it out, imported
    with the table's schema (Arrow takes the buffers over, no copy)."""
    return pa.RecordBatch._import_from_c(address, arrow_schema())


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


__all__ = ["convert_batch", "import_batch", "use"]
