"""Sink stage, local files: objects appear whole or not at all, under names no reader globs while
being written, and what a crashed writer left is removed on the next start (only a dead writer's)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from stream_processor.checkpoint import Checkpoint, Progress
from stream_processor.cli import main
from stream_processor.errors import ConfigError, SinkError
from stream_processor.sinks.local_dir import TEMP_PREFIX, LocalDirSink, temporary_path
from stream_processor.sinks.object_store import LocalStore


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_put_writes_whole_files_and_leaves_no_temporary(tmp_path: Path) -> None:
    sink = LocalDirSink(tmp_path)
    path = sink.put("logs/src=x/a.parquet", b"abc")
    assert path.read_bytes() == b"abc"
    assert [p.name for p in path.parent.iterdir()] == ["a.parquet"]


def test_temporary_names_carry_the_writer_and_hide_from_data_globs(tmp_path: Path) -> None:
    temp = temporary_path(tmp_path / "a.parquet")
    assert temp.name.startswith(f"{TEMP_PREFIX}{os.getpid()}-") and temp.name.endswith(".partial")
    assert not temp.match("*.parquet")


def test_only_dead_writers_temporaries_are_cleaned(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    source = tmp_path / "input.bin"
    source.write_bytes(b"payload")
    store.put_file("logs/b.parquet", source)  # the copy path names its temporary like put does
    assert (tmp_path / "logs" / "b.parquet").read_bytes() == b"payload"
    live = tmp_path / "logs" / f"{TEMP_PREFIX}{os.getpid()}-x-c.parquet.partial"
    dead = tmp_path / "logs" / f"{TEMP_PREFIX}{_dead_pid()}-x-d.parquet.partial"
    live.write_bytes(b"half")
    dead.write_bytes(b"half")
    assert LocalDirSink(tmp_path).clean_temporary_files() == 1
    assert live.exists() and not dead.exists()


def test_rename_across_directories_and_checkpoint_replace(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("staging/x.parquet", b"1")
    store.rename("staging/x.parquet", "logs/x.parquet")
    assert (tmp_path / "logs" / "x.parquet").read_bytes() == b"1" and not (tmp_path / "staging" / "x.parquet").exists()
    checkpoint = Checkpoint(tmp_path, "abc")
    checkpoint.save(Progress(7, False))
    checkpoint.save(Progress(9, True))
    assert checkpoint.load() == Progress(9, True)
    assert [p.name for p in checkpoint.path.parent.iterdir()] == ["run-abc.json"]


def test_a_directory_that_refuses_fsync_costs_durability_not_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")  # as some network mounts answer
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = LocalDirSink(tmp_path).put("logs/src=x/dt=2024-01-01/a.parquet", b"abc")
    assert path.read_bytes() == b"abc"
    checkpoint = Checkpoint(tmp_path, "r")
    checkpoint.save(Progress(3, False))
    assert checkpoint.load() == Progress(3, False)
    assert "Cannot fsync directory" in caplog.text


def test_a_lake_under_a_file_is_a_sink_error_not_another_oserror(tmp_path: Path) -> None:
    """Removing the temporary fails the same way the write did (NotADirectoryError): before, that second
    error escaped instead of SinkError, so `serve` could not count the records it failed to keep."""
    (tmp_path / "file").write_bytes(b"")
    sink = LocalDirSink(tmp_path / "file")
    with pytest.raises(SinkError, match="cannot write"):
        sink.put(".twin/spill.json", b"{}")


@pytest.mark.parametrize(
    "content",
    [
        '{"records_done": -3, "complete": false}',
        '{"records_done": "9"}',
        '{"records_done": 1.5, "complete": false}',
        "[1",
    ],
)
def test_a_checkpoint_not_written_by_the_twin_is_refused(tmp_path: Path, content: str) -> None:
    """Before, -3 resumed "-3 records delivered" and a garbled file silently started over (delivering
    records a second time)."""
    checkpoint = Checkpoint(tmp_path, "edited")
    checkpoint.path.parent.mkdir(parents=True)
    checkpoint.path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="unreadable checkpoint"):
        checkpoint.load()
    assert Checkpoint(tmp_path, "absent").load() == Progress(0, False)


def test_a_checkpoint_past_the_end_of_its_input_is_refused(tmp_path: Path) -> None:
    """Before, a checkpoint edited to 99 of 3 records skipped them all and said "conservation: holds"."""
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "events" / "lambda-json.json"
    lake = tmp_path / "lake"
    assert main(["run", str(fixtures), "--lake", str(lake)]) == 0
    (path,) = (lake / ".twin").glob("run-*.json")
    path.write_text('{"records_done": 99, "complete": false}', encoding="utf-8")
    assert main(["run", str(fixtures), "--lake", str(lake)]) == 2
