"""Buffer stage: records into Lambda batches by the processor buffer hints, as Firehose does.

Input: ``SourceRecord`` items in arrival order. Output: batches (lists of records). A batch closes
when its data reaches ``size_mb`` or when a record arrives ``interval_s`` after the batch's first
record (arrival times are the clock, so a replay batches as the live stream would); the end of the
input flushes the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from stream_processor.errors import ConfigError
from stream_processor.settings import PROCESSOR_BUFFER_INTERVAL_S_RANGE, PROCESSOR_BUFFER_SIZE_MB_RANGE
from stream_processor.sources.fixture import SourceRecord

MIB: Final = 1024 * 1024


class ProcessorBuffer:
    """Accumulates records until a buffer hint is reached."""

    def __init__(self, size_mb: float, interval_s: int) -> None:
        """Raises:
        ConfigError: a hint is outside Firehose's accepted range.
        """
        low, high = PROCESSOR_BUFFER_SIZE_MB_RANGE
        if not low <= size_mb <= high:
            raise ConfigError(f"processor buffer size must be {low}-{high} MB, got {size_mb}")
        ilow, ihigh = PROCESSOR_BUFFER_INTERVAL_S_RANGE
        if not ilow <= interval_s <= ihigh:
            raise ConfigError(f"processor buffer interval must be {ilow}-{ihigh} s, got {interval_s}")
        self.size_bytes = int(size_mb * MIB)
        self.interval_ms = interval_s * 1000
        self._records: list[SourceRecord] = []
        self._bytes = 0

    def add(self, record: SourceRecord) -> list[list[SourceRecord]]:
        """Add a record; returns the batches this closes (none, one, or two)."""
        closed: list[list[SourceRecord]] = []
        if self._records and record.arrival_ms - self._records[0].arrival_ms >= self.interval_ms:
            closed.append(self.flush())
        self._records.append(record)
        self._bytes += len(record.data)
        if self._bytes >= self.size_bytes:
            closed.append(self.flush())
        return closed

    def flush(self) -> list[SourceRecord]:
        """Close the current batch (possibly empty)."""
        batch, self._records, self._bytes = self._records, [], 0
        return batch

    @property
    def oldest_arrival_ms(self) -> int | None:
        """Arrival time of the open batch's first record (None when empty), for wall-clock flushing."""
        return self._records[0].arrival_ms if self._records else None

    def held(self) -> list[SourceRecord]:
        """The records waiting for the next batch, oldest first."""
        return list(self._records)

    def __len__(self) -> int:
        return len(self._records)


def batches(records: Iterable[SourceRecord], size_mb: float, interval_s: int) -> Iterator[list[SourceRecord]]:
    """Group records into Lambda batches by the buffer hints.

    Raises:
        ConfigError: a hint is outside Firehose's accepted range.
    """
    buffer = ProcessorBuffer(size_mb, interval_s)
    for record in records:
        yield from buffer.add(record)
    rest = buffer.flush()
    if rest:
        yield rest


__all__ = ["MIB", "ProcessorBuffer", "batches"]
