"""Compaction merge: the Parquet files of one partition into a few large ones, without duplicate
event ids, in bounded memory.

Input: local paths of a partition's Parquet files (in key order, so the earliest delivery of an
event wins) and ``MergeOptions``. Output: local Parquet files near the target size with exactly the
stream's schema (``arrow_schema()``, Snappy, INT96 timestamps) and ``MergeStats``. Pass 1 reads only
the ``event_id`` column and marks, in a bitmap of one bit per row, every row whose id appeared
earlier; ids are held in a set one hash bucket at a time, so memory for ids is bounded by
``id_memory_bytes`` whatever the partition's size. Pass 2 streams row batches, drops the marked rows
and writes row groups of about ``row_group_bytes``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from stream_processor.errors import ProcessorError
from stream_processor.firehose.convert import arrow_schema
from stream_processor.settings import PARQUET_COMPRESSION

MIB: Final = 1024 * 1024
# Python memory per distinct event_id held in the dedupe set: a 56-character str (~105 bytes) plus
# its set slot and growth slack. Measured with tracemalloc on CloudWatch-style ids: ~170 bytes.
BYTES_PER_ID: Final = 200
ID_COLUMN: Final = "event_id"


class SchemaMismatchError(ProcessorError):
    """A file in the partition cannot be read or does not fit the table's schema (a column the table
    lacks, a type or a value that does not cast); the partition is left alone."""


@dataclass(frozen=True, slots=True)
class MergeOptions:
    """Sizes that bound the output files and the memory used."""

    target_bytes: int = 256 * MIB
    row_group_bytes: int = 64 * MIB
    id_memory_bytes: int = 256 * MIB


@dataclass(frozen=True, slots=True)
class MergeOutput:
    """One written file."""

    path: Path
    rows: int
    bytes: int


@dataclass(slots=True)
class MergeStats:
    """What the merge did."""

    rows_in: int = 0
    rows_out: int = 0
    duplicates: int = 0
    id_passes: int = 0
    outputs: list[MergeOutput] = field(default_factory=list)


# What reading a damaged file or casting a value that does not fit raises.
_READ_ERRORS: Final = (pa.ArrowException, OSError)


def merge_files(
    paths: Sequence[Path], out_dir: Path, name: Callable[[int], str], options: MergeOptions | None = None
) -> MergeStats:
    """Merge ``paths`` into files under ``out_dir`` named ``name(0)``, ``name(1)``…

    Raises:
        SchemaMismatchError: a file has a column the table lacks or a type that does not cast.
    """
    options = options or MergeOptions()
    schema = arrow_schema()
    files = [_open(p) for p in paths]
    try:
        return _merge(paths, files, out_dir, name, options, schema)
    except _READ_ERRORS as exc:  # a page that does not decode, a value that does not cast
        raise SchemaMismatchError(f"{exc}") from exc


def _merge(
    paths: Sequence[Path],
    files: list[pq.ParquetFile],
    out_dir: Path,
    name: Callable[[int], str],
    options: MergeOptions,
    schema: pa.Schema,
) -> MergeStats:
    for path, pf in zip(paths, files, strict=True):
        _check_schema(path, pf.schema_arrow, schema)
    stats = MergeStats(rows_in=sum(pf.metadata.num_rows for pf in files))
    duplicates, per_group = _mark_duplicates(files, stats, options)
    writer = _RollingWriter(out_dir, name, schema, options, stats)
    position = 0
    for n, pf in enumerate(files):
        try:
            for rg in range(pf.num_row_groups):
                for batch in _batches(pf, rg, options):
                    start = position
                    position += batch.num_rows
                    if per_group.get((n, rg)):
                        keep = [not (duplicates[p >> 3] >> (p & 7)) & 1 for p in range(start, position)]
                        batch = batch.filter(pa.array(keep, pa.bool_()))
                    if batch.num_rows:
                        writer.add(_conform(batch, schema))
        except _READ_ERRORS as exc:
            raise SchemaMismatchError(f"{paths[n].name}: {str(exc).splitlines()[0]}") from exc
    writer.close()
    return stats


def _open(path: Path) -> pq.ParquetFile:
    # Streamed page reads instead of pre-buffering whole row groups; INT96 read back as milliseconds.
    try:
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=MIB, coerce_int96_timestamp_unit="ms")
    except _READ_ERRORS as exc:  # empty, cut short, not Parquet
        raise SchemaMismatchError(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]})") from exc


def _check_schema(path: Path, found: pa.Schema, schema: pa.Schema) -> None:
    for f in found:
        index = schema.get_field_index(f.name)
        if index < 0:
            raise SchemaMismatchError(f"{path.name}: column {f.name!r} is not in the table")
        want = schema.field(index).type
        if f.type != want and not pa.types.is_null(f.type):
            try:
                pa.array([], f.type).cast(want)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SchemaMismatchError(f"{path.name}: column {f.name!r} is {f.type}, the table has {want}") from exc


def _mark_duplicates(
    files: list[pq.ParquetFile], stats: MergeStats, options: MergeOptions
) -> tuple[bytearray, dict[tuple[int, int], int]]:
    """A bitmap of the rows whose event_id appeared at an earlier row, and dup counts per row group."""
    total = stats.rows_in
    passes = max(1, math.ceil(total * BYTES_PER_ID / options.id_memory_bytes))
    stats.id_passes = passes
    bitmap = bytearray((total + 7) // 8)
    per_group: dict[tuple[int, int], int] = {}
    for bucket in range(passes):
        seen: set[str] = set()
        add = seen.add
        position = 0
        for n, pf in enumerate(files):
            has_ids = ID_COLUMN in pf.schema_arrow.names
            for rg in range(pf.num_row_groups):
                count = pf.metadata.row_group(rg).num_rows
                if not has_ids:
                    position += count
                    continue
                ids = pf.read_row_group(rg, columns=[ID_COLUMN]).column(0).to_pylist()
                found = 0
                for offset, value in enumerate(ids):
                    # Rows without an id cannot be told apart: all of them are kept.
                    if value is None or (passes > 1 and hash(value) % passes != bucket):
                        continue
                    if value in seen:
                        p = position + offset
                        bitmap[p >> 3] |= 1 << (p & 7)
                        found += 1
                    else:
                        add(value)
                if found:
                    per_group[(n, rg)] = per_group.get((n, rg), 0) + found
                    stats.duplicates += found
                position += count
    return bitmap, per_group


def _batches(pf: pq.ParquetFile, rg: int, options: MergeOptions) -> Iterator[pa.RecordBatch]:
    meta = pf.metadata.row_group(rg)
    if meta.total_byte_size <= options.row_group_bytes // 4:
        # Small row groups (the stream's files): one read is several times faster than a batch reader.
        yield from pf.read_row_group(rg).to_batches()
        return
    row_bytes = max(1, meta.total_byte_size // max(1, meta.num_rows))
    # A quarter of a row group per batch keeps the reader's share of memory small.
    size = max(1024, options.row_group_bytes // 4 // row_bytes)
    yield from pf.iter_batches(batch_size=size, row_groups=[rg])


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.Table:
    """The batch with exactly the table's columns, order and types (missing columns as nulls)."""
    columns = []
    for f in schema:
        index = batch.schema.get_field_index(f.name)
        if index < 0:
            columns.append(pa.nulls(batch.num_rows, f.type))
            continue
        column = batch.column(index)
        columns.append(column if column.type == f.type else column.cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


class _RollingWriter:
    """Row groups of about ``row_group_bytes``; a new file once a file passes ``target_bytes``."""

    def __init__(
        self, out_dir: Path, name: Callable[[int], str], schema: pa.Schema, options: MergeOptions, stats: MergeStats
    ) -> None:
        self.out_dir, self.name, self.schema, self.options, self.stats = out_dir, name, schema, options, stats
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.sink: pa.NativeFile | None = None
        self.writer: pq.ParquetWriter | None = None
        self.path: Path | None = None
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.buffered += table.nbytes
        if self.buffered >= self.options.row_group_bytes:
            self._write_row_group()

    def close(self) -> None:
        self._write_row_group()
        self._close_file()

    def _write_row_group(self) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        self.buffer, self.buffered = [], 0
        if self.writer is None:
            self.path = self.out_dir / self.name(len(self.stats.outputs))
            self.sink = pa.OSFile(str(self.path), "wb")
            # The same writer settings as the stream's files (convert.table_to_parquet).
            self.writer = pq.ParquetWriter(
                self.sink,
                self.schema,
                compression=PARQUET_COMPRESSION,
                use_deprecated_int96_timestamps=True,
                write_statistics=True,
            )
        self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        self.rows += table.num_rows
        assert self.sink is not None
        if self.sink.tell() >= self.options.target_bytes:
            self._close_file()

    def _close_file(self) -> None:
        if self.writer is None or self.path is None:
            return
        self.writer.close()
        assert self.sink is not None
        self.sink.close()
        self.stats.outputs.append(MergeOutput(self.path, self.rows, self.path.stat().st_size))
        self.stats.rows_out += self.rows
        self.writer, self.sink, self.path, self.rows = None, None, None, 0


__all__ = [
    "BYTES_PER_ID",
    "MergeOptions",
    "MergeOutput",
    "MergeStats",
    "SchemaMismatchError",
    "merge_files",
]
