"""Buffer stage: batches close at the size hint or the interval (by arrival time), never lose or
reorder a record, and hints outside Firehose's ranges are refused."""

from __future__ import annotations

import pytest

from stream_processor.errors import ConfigError
from stream_processor.firehose.buffer import MIB, batches
from stream_processor.sources.fixture import SourceRecord


def rec(size: int, at: int) -> SourceRecord:
    return SourceRecord(b"x" * size, at, f"r@{at}")


def test_buffer_closes_at_the_size_hint() -> None:
    records = [rec(300 * 1024, i) for i in range(10)]  # 0.29 MiB each
    out = list(batches(records, 1.0, 60))
    assert [len(b) for b in out] == [4, 4, 2]
    assert [r for b in out for r in b] == records


def test_buffer_closes_at_the_interval_by_arrival_time() -> None:
    records = [rec(10, t) for t in (0, 10_000, 59_999, 60_000, 61_000, 200_000)]
    out = list(batches(records, 3.0, 60))
    assert [[r.arrival_ms for r in b] for b in out] == [[0, 10_000, 59_999], [60_000, 61_000], [200_000]]


def test_buffer_zero_interval_sends_each_record_after_the_first_alone() -> None:
    out = list(batches([rec(10, 0), rec(10, 0), rec(10, 1)], 1.0, 0))
    assert [len(b) for b in out] == [1, 1, 1]


def test_buffer_record_larger_than_the_hint_goes_alone() -> None:
    big = rec(int(1.5 * MIB), 1)
    out = list(batches([rec(10, 0), big, rec(10, 2)], 1.0, 60))
    assert [len(b) for b in out] == [2, 1]


@pytest.mark.parametrize(("size", "interval"), [(0.1, 60), (3.5, 60), (1.0, -1), (1.0, 901)])
def test_buffer_hints_outside_firehose_ranges_are_refused(size: float, interval: int) -> None:
    with pytest.raises(ConfigError):
        list(batches([rec(1, 0)], size, interval))
