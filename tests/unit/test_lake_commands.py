"""Pieces of the backfill and compact commands with no I/O: progress output, time flags, windows."""

from __future__ import annotations

import io

import pytest

from stream_processor.errors import ConfigError
from stream_processor.lake_commands import parse_time
from stream_processor.progress import Progress
from stream_processor.sources.cloudwatch_export import derive_event_id
from stream_processor.sources.cloudwatch_logs import logs_windows


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_not_a_tty_prints_plain_lines_per_interval() -> None:
    out, now = io.StringIO(), [0.0]
    progress = Progress(4, "units", stream=out, interval_s=10, clock=lambda: now[0])
    progress.update(done=1, events=100, rows=100)
    now[0] = 11.0
    progress.update(done=1, events=100, rows=100)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "progress: 2/4 units, 200 events, 200 rows, 18 events/s, 11s",
        "progress: 2/4 units, 200 events, 200 rows, 18 events/s, 11s",
    ]


def test_progress_tty_redraws_one_bar_line() -> None:
    out, now = _Tty(), [0.0]
    progress = Progress(2, "units", stream=out, clock=lambda: now[0])
    now[0] = 1.0
    progress.update(done=1, rows=5)
    progress.close()
    text = out.getvalue()
    assert text.count("\r[") == 2 and text.endswith("\n") and "[##############..............] 1/2 units" in text


def test_parse_time_iso_naive_utc_and_epoch_ms() -> None:
    assert parse_time("2025-11-23T10:00:00Z", "--start") == 1_763_892_000_000
    assert parse_time("2025-11-23T10:00:00", "--start") == 1_763_892_000_000
    assert parse_time("2025-11-23T11:00:00+01:00", "--start") == 1_763_892_000_000
    assert parse_time("1763892000000", "--start") == 1_763_892_000_000
    with pytest.raises(ConfigError):
        parse_time("yesterday", "--start")


def test_logs_windows_range_cut_at_hours() -> None:
    start = 1_763_892_000_000 + 1_800_000  # 10:30
    windows = logs_windows("/g", start, start + 2 * 3_600_000)
    assert [(w.start_ms - start, w.end_ms - start) for w in windows] == [
        (0, 1_800_000),
        (1_800_000, 5_400_000),
        (5_400_000, 7_200_000),
    ]
    with pytest.raises(ConfigError):
        logs_windows("/g", start, start)


def test_export_derived_id_depends_on_every_part() -> None:
    base = derive_event_id("/g", "s", 1, "m", 0)
    assert base == derive_event_id("/g", "s", 1, "m", 0)
    others = {
        derive_event_id("/h", "s", 1, "m", 0),
        derive_event_id("/g", "t", 1, "m", 0),
        derive_event_id("/g", "s", 2, "m", 0),
        derive_event_id("/g", "s", 1, "n", 0),
        derive_event_id("/g", "s", 1, "m", 1),
    }
    assert base not in others and len(others) == 5
