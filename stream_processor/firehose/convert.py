"""Convert stage: the transform's JSON rows into Parquet against the Glue schema, as Firehose's
record format conversion (OpenX JSON SerDe -> ParquetSerDe) does.

Input: the decoded ``data`` of ``Ok`` records (back-to-back JSON objects). Output: per record,
either its rows (dicts keyed by column, values typed for Arrow) or a ``ConversionError`` (what
Firehose would write to ``format-conversion-failed``); then pyarrow Tables and Parquet bytes.
Keys not in the schema are dropped, as Firehose does, and counted. A value that does not fit its
column fails the record: never a silent coercion.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from stream_processor.settings import PARQUET_COMPRESSION
from transform_lambda import accel
from transform_lambda.schema import BIGINT_RANGE, COLUMNS, INT_RANGE

_ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("ms"),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
}
# Timestamps OpenX accepts as text: yyyy-MM-dd'T'HH:mm:ss[.S…]'Z' and yyyy-[M]M-[d]d HH:mm:ss[.S…]
# (firehose-contract §4).
_ISO_T: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_ISO_SPACE: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MALFORMED: Final = "DataFormatConversion.MalformedData"
# What the Parquet writer can hold as INT96 from milliseconds: 1677-09-22 to 9999-12-31.
_EPOCH_MS_RANGE: Final = (-9_223_372_036_854, 253_402_300_799_999)
# yyyy-MM-ddTHH:mm:ss -> epoch seconds, for the timestamps already read once (rows of a batch share
# a few seconds); bounded.
_SECONDS: dict[str, int] = {}
_SECONDS_CACHED: Final = 65_536


@functools.cache
def arrow_schema() -> pa.Schema:
    """The Parquet schema of the table's data columns (partition columns live in the path); made once."""
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], nullable=True) for c in COLUMNS])


@dataclass(frozen=True, slots=True)
class ConversionError:
    """Why a record could not be converted, in Firehose's terms."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ConvertedRecord:
    """A record's rows ready for Arrow, or its conversion error; ``unknown_keys`` dropped silently.
    The columnar fast path (``convert_columns``) hands the rows over in ``whole`` instead, the table
    of every record it converted at once: this record's are its ``count`` rows from ``offset`` on."""

    rows: list[dict[str, object]]
    error: ConversionError | None = None
    unknown_keys: int = 0
    whole: pa.Table | None = None
    offset: int = 0
    count: int = 0

    @property
    def table(self) -> pa.Table | None:
        """The columnar fast path's rows of this record, as a slice of ``whole`` (made when asked
        for: the usual record's rows go on in ``whole`` itself, ``PendingObject.detach``)."""
        return None if self.whole is None else self.whole.slice(self.offset, self.count)

    @property
    def row_count(self) -> int:
        """How many rows the record has."""
        return self.count if self.whole is not None else len(self.rows)


_STR: Final = frozenset({str})


class _Misfit(Exception):
    pass


def _text(v: object) -> object:
    if isinstance(v, str):
        return v
    raise _Misfit("expected a string")


def _integer(bounds: tuple[int, int]) -> Callable[[object], object]:
    def check(v: object) -> object:
        if isinstance(v, int) and not isinstance(v, bool) and bounds[0] <= v <= bounds[1]:
            return v
        raise _Misfit(f"expected an integer in {bounds[0]}..{bounds[1]}")

    return check


def _double(v: object) -> object:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    raise _Misfit("expected a number")


def _boolean(v: object) -> object:
    if isinstance(v, bool):
        return v
    raise _Misfit("expected a boolean")


def _timestamp(v: object) -> object:
    if isinstance(v, int) and not isinstance(v, bool):
        if _EPOCH_MS_RANGE[0] <= v <= _EPOCH_MS_RANGE[1]:
            return v  # epoch milliseconds
        raise _Misfit("epoch milliseconds out of the timestamp range")
    if isinstance(v, str):
        # The transform's spelling, yyyy-MM-ddTHH:mm:ss.SSSZ, by the second (seen before) + millis.
        if len(v) == 24 and v[19] == "." and v[23] == "Z" and v[20:23].isdecimal():
            seconds = _SECONDS.get(v[:19])
            if seconds is not None:
                return seconds * 1000 + int(v[20:23])
        match = _ISO_T.fullmatch(v) or _ISO_SPACE.fullmatch(v)
        if match:
            year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
            try:
                at = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError as exc:
                raise _Misfit("not a valid date") from exc
            fraction = (match.group(7) or "0").ljust(3, "0")[:3]
            seconds = int((at - _EPOCH).total_seconds())
            if match.re is _ISO_T and len(v) == 24:
                if len(_SECONDS) >= _SECONDS_CACHED:
                    _SECONDS.clear()
                _SECONDS[v[:19]] = seconds
            return seconds * 1000 + int(fraction)
    raise _Misfit("expected a timestamp")


def _string_map(v: object) -> object:
    if type(v) is dict and _STR.issuperset(map(type, v.values())):
        return list(v.items())
    if isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
        return list(v.items())
    raise _Misfit("expected an object of strings")


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "string": _text,
    "int": _integer(INT_RANGE),
    "bigint": _integer(BIGINT_RANGE),
    "double": _double,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "map<string,string>": _string_map,
}
_COLUMN_CHECKS: Final = {c.name: _CHECKS[c.type] for c in COLUMNS}


_STRING_COLUMNS: Final = frozenset(c.name for c in COLUMNS if c.type == "string")


def convert_record(data: bytes) -> ConvertedRecord:
    """Deserialize one record's JSON objects and check each value against its column."""
    fast = _convert_lines(data)
    return fast if fast is not None else _convert_documents(data)


def _convert_lines(data: bytes) -> ConvertedRecord | None:
    """The common case fast: one JSON object a line (as the transform writes them), read with
    ``accel.loads`` (orjson). None when that is off, or on anything unusual: then
    ``_convert_documents`` decides, with json, so results and error messages do not depend on it."""
    rows: list[dict[str, object]] = []
    unknown = 0
    for line in data.split(b"\n"):
        if not line:
            continue
        doc = accel.loads(line)
        if type(doc) is not dict:
            return None
        row, dropped = _convert_doc(doc)
        if row is None:
            return None
        rows.append(row)
        unknown += dropped
    return ConvertedRecord(rows, None, unknown)


def _convert_documents(data: bytes) -> ConvertedRecord:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ConvertedRecord([], ConversionError(MALFORMED, "The record is not valid UTF-8."))
    rows: list[dict[str, object]] = []
    unknown = 0
    decoder = json.JSONDecoder()
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos == end:
            break
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return ConvertedRecord([], ConversionError(MALFORMED, f"Malformed JSON at character {pos}."))
        except ValueError:  # an integer past sys.get_int_max_str_digits(): no column holds it
            return ConvertedRecord([], ConversionError(MALFORMED, f"A number too long to read at character {pos}."))
        if not isinstance(doc, dict):
            return ConvertedRecord(
                [], ConversionError(MALFORMED, "A JSON record must be an object, not an array or scalar.")
            )
        row, dropped = _convert_doc(doc)
        if row is None:
            return ConvertedRecord([], ConversionError(MALFORMED, dropped_reason(doc)))
        rows.append(row)
        unknown += dropped
    return ConvertedRecord(rows, None, unknown)


def _convert_doc(doc: dict[str, object]) -> tuple[dict[str, object] | None, int]:
    """One object's row and how many keys outside the schema it had; (None, 0) if a value misfits."""
    row: dict[str, object] = {}
    unknown = 0
    for key, value in doc.items():
        if type(value) is str and key in _STRING_COLUMNS:
            row[key] = value
            continue
        # The stream is deployed with the OpenX SerDe's CaseInsensitive off (infra/pipeline.yaml):
        # keys match column names exactly.
        name = key
        check = _COLUMN_CHECKS.get(name)
        if check is None:
            unknown += 1
            continue
        if value is None:
            continue
        try:
            row[name] = check(value)
        except _Misfit:
            return None, 0
    return row, unknown


def dropped_reason(doc: dict[str, object]) -> str:
    """The message of the first misfit value of ``doc`` (which ``_convert_doc`` refused)."""
    for key, value in doc.items():
        name = key.lower()
        check = _COLUMN_CHECKS.get(name)
        if check is None or value is None:
            continue
        try:
            check(value)
        except _Misfit as exc:
            return f"Column {name!r}: {exc}."
    return "A value does not fit its column."


def rows_to_table(rows: Iterable[dict[str, object]]) -> pa.Table:
    """Checked rows into an Arrow table with exactly the Glue columns."""
    schema = arrow_schema()
    rows = rows if isinstance(rows, list) else list(rows)
    count = len(rows)
    columns: dict[str, list[object]] = {name: [None] * count for name in schema.names}
    # Rows are sparse (a dozen of the columns): fill what each row has instead of asking every column.
    for index, row in enumerate(rows):
        for name, value in row.items():
            column = columns.get(name)
            if column is not None:
                column[index] = value
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def parts_to_table(parts: Iterable[pa.Table | list[dict[str, object]]]) -> pa.Table:
    """Buffered tables and runs of checked rows, in order, into one table with contiguous columns
    (so the Parquet writer cuts pages as it does for a table built from rows in one go)."""
    tables = [part if isinstance(part, pa.Table) else rows_to_table(part) for part in parts]
    return pa.concat_tables(tables).combine_chunks() if tables else rows_to_table([])


def detach_tables(tables: Sequence[pa.Table]) -> pa.Table:
    """Tables (slices of larger ones) as one table of new buffers, which keeps nothing else alive."""
    if len(tables) == 1:  # combine_chunks leaves a lone chunk as it is: take copies it
        return tables[0].take(pa.array(range(tables[0].num_rows), pa.int64()))
    return pa.concat_tables(tables).combine_chunks()


def table_to_parquet(table: pa.Table) -> bytes:
    """Parquet bytes as Firehose writes them: Snappy, timestamps as INT96 (Hive's ParquetSerDe)."""
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression=PARQUET_COMPRESSION,
        use_deprecated_int96_timestamps=True,
        write_statistics=True,
    )
    return sink.getvalue()


__all__ = [
    "MALFORMED",
    "ConversionError",
    "ConvertedRecord",
    "arrow_schema",
    "convert_record",
    "detach_tables",
    "dropped_reason",
    "parts_to_table",
    "rows_to_table",
    "table_to_parquet",
]
