"""Buffer stage, S3 side: what waits for its object to be written, as Firehose's S3 buffering hints
hold it.

Input: converted records (``ConvertedRecord``) and error documents. Output: per partition, a
``PendingObject`` whose rows become one Parquet object; per error type, ``PendingErrors``. When to
write them (size, interval, the end of a run) is the pipeline's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from stream_processor.firehose.convert import ConvertedRecord, detach_tables
from stream_processor.sources.fixture import SourceRecord


@dataclass(slots=True)
class PendingObject:
    """Rows waiting in the S3 buffer for one partition: tables from the columnar fast path and runs
    of rows from the row path, in arrival order (``convert.parts_to_table`` joins them)."""

    partition_keys: dict[str, str] | None
    oldest_arrival_ms: int
    parts: list[pa.Table | list[dict[str, object]]] = field(default_factory=list)
    rows: int = 0
    bytes: int = 0
    # Records from the columnar fast path added after the parts, not yet detached; of each, in order:
    # the converted table its rows are in, its first row there, its rows.
    sliced_from: list[tuple[pa.Table, int, int]] = field(default_factory=list)
    records: list[SourceRecord] = field(default_factory=list)  # whose rows these are, until written

    def add(self, converted: ConvertedRecord) -> None:
        """Append one record's rows."""
        if converted.whole is not None:
            self.sliced_from.append((converted.whole, converted.offset, converted.count))
        else:
            self.detach()
            if self.parts and isinstance(self.parts[-1], list):
                self.parts[-1].extend(converted.rows)
            else:
                self.parts.append(list(converted.rows))
        self.rows += converted.row_count

    def detach(self) -> None:
        """Make the fast path's records added since the last call one table of this object's own: a
        slice would keep its whole table alive for as long as this object waits to be written. When
        they are all of one table, in order, that table is this object's already and is kept as it
        is (no slice is ever made); otherwise their rows are copied."""
        if self.sliced_from:
            whole = _covered(self.sliced_from)
            self.parts.append(whole if whole is not None else detach_tables(self._slices()))
            self.sliced_from.clear()

    def table_parts(self) -> list[pa.Table | list[dict[str, object]]]:
        """Every part in order, ready to be joined (``convert.parts_to_table``): the records not yet
        detached are slices of their tables, or the one table they cover."""
        if not self.sliced_from:
            return self.parts
        whole = _covered(self.sliced_from)
        return [*self.parts, *([whole] if whole is not None else self._slices())]

    def _slices(self) -> list[pa.Table]:
        return [table.slice(offset, rows) for table, offset, rows in self.sliced_from]


def _covered(sliced_from: list[tuple[pa.Table, int, int]]) -> pa.Table | None:
    """The table the records' rows are in when they are all of it, in order, with nothing left out."""
    whole = sliced_from[0][0]
    at = 0
    for table, offset, rows in sliced_from:
        if table is not whole or offset != at:
            return None
        at += rows
    return whole if at == whole.num_rows else None


@dataclass(slots=True)
class PendingErrors:
    """Error documents of one error type waiting in the S3 buffer."""

    oldest_arrival_ms: int
    documents: list[dict[str, Any]] = field(default_factory=list)
    records: list[SourceRecord] = field(default_factory=list)  # whose documents these are, until written


__all__ = ["PendingErrors", "PendingObject"]
