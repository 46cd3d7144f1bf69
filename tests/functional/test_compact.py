"""Compaction: merged partitions keep every distinct row and the stream's exact schema, a crash at any
step is repaired by the next run (and readers never lose a row meanwhile), open partitions are left
alone, and the same code runs against S3 (moto server on 127.0.0.1)."""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stream_processor.cli import main
from stream_processor.compact import MANIFEST_PREFIX, STAGED_SUFFIX, CompactionError, CompactionOptions, Compactor
from stream_processor.compact_merge import MIB, MergeOptions
from stream_processor.firehose.convert import rows_to_table, table_to_parquet
from stream_processor.sinks.object_store import LocalStore, ObjectStore, S3Store

PARTITION = "src=text/dt=2025-11-23/hour=10"
HOUR_START_MS = 1_763_892_000_000  # 2025-11-23T10:00:00Z
LATER_MS = HOUR_START_MS + 24 * 3_600_000


def make_rows(ids: list[str]) -> list[dict[str, object]]:
    """Rows as convert_record makes them (timestamps in epoch ms, maps as item lists)."""
    return [
        {
            "event_time": HOUR_START_MS + n,
            "arrival_time": HOUR_START_MS + 60_000,
            "event_id": event_id,
            "log_group": "/app/orders",
            "log_stream": "i-0abc",
            "source": "text",
            "level": "INFO",
            "message": f"message of {event_id}",
            "status_code": 200,
            "duration_ms": 1.5,
            "fields": [("k", event_id)],
        }
        for n, event_id in enumerate(ids)
    ]


def write_partition(store: ObjectStore, files: list[list[str]], partition: str = PARTITION) -> None:
    for n, ids in enumerate(files):
        body = table_to_parquet(rows_to_table(make_rows(ids)))
        store.put_bytes(f"logs/{partition}/stream-processor-1-2025-11-23-10-{n:02d}-00-file{n:03d}.parquet", body)


def visible_rows(store: ObjectStore) -> list[dict[str, Any]]:
    """What a reader globbing ``*.parquet`` (not ``_``/``.``-prefixed) sees, as Athena and DuckDB do."""
    rows: list[dict[str, Any]] = []
    for obj in store.list("logs/"):
        name = obj.key.rpartition("/")[2]
        if name.endswith(".parquet") and not name.startswith(("_", ".")):
            path = Path(store.location) / obj.key if isinstance(store, LocalStore) else None
            if path is None:
                import io

                table = pq.read_table(io.BytesIO(store.read_bytes(obj.key)))
            else:
                table = pq.read_table(path)
            rows.extend(table.to_pylist())
    return rows


def compactor(store: ObjectStore, **kwargs: Any) -> Compactor:
    checkpoint: Callable[[str], None] | None = kwargs.pop("checkpoint", None)
    options = CompactionOptions(**kwargs)
    return Compactor(store, options, clock_ms=lambda: LATER_MS, checkpoint=checkpoint)


FILES = [[f"id-{n:04d}" for n in range(i * 40, i * 40 + 60)] for i in range(5)]  # overlapping ids
DISTINCT = sorted({i for ids in FILES for i in ids})


def test_compact_overlapping_files_keeps_distinct_rows_and_schema(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_partition(store, FILES)
    original = next(p for p in tmp_path.rglob("*.parquet"))
    schema_before = pq.ParquetFile(original).schema
    arrow_before = pq.read_schema(original)
    first_seen = {r["event_id"]: r for r in reversed(visible_rows(store))}

    report = compactor(store).run()

    after = list(tmp_path.rglob("*.parquet"))
    assert len(after) == 1
    assert pq.ParquetFile(after[0]).schema == schema_before  # Parquet physical types: INT96 timestamps
    assert pq.ParquetFile(after[0]).schema.column(0).physical_type == "INT96"
    assert pq.read_schema(after[0]).equals(arrow_before, check_metadata=True)
    rows = visible_rows(store)
    assert sorted(r["event_id"] for r in rows) == DISTINCT
    assert all(r == first_seen[r["event_id"]] for r in rows)
    totals = report.totals()
    assert (totals["files_before"], totals["files_after"]) == (5, 1)
    assert totals["rows_in"] == 300 and totals["rows_out"] == len(DISTINCT) == 220
    assert totals["duplicates_removed"] == 80
    assert not list(store.list(MANIFEST_PREFIX))


def test_compact_small_id_budget_dedupes_in_several_passes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_partition(store, FILES)
    report = compactor(store, merge=MergeOptions(id_memory_bytes=10_000)).run()
    assert report.partitions[0].id_passes > 1
    assert sorted(r["event_id"] for r in visible_rows(store)) == DISTINCT


def test_compact_target_size_splits_output_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_partition(store, [[f"f{f}-{n:05d}" for n in range(2000)] for f in range(4)])
    report = compactor(store, merge=MergeOptions(target_bytes=40_000, row_group_bytes=100_000)).run()
    assert report.partitions[0].files_after > 1
    assert len(visible_rows(store)) == 8000


def test_compact_open_partition_within_grace_is_untouched(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_partition(store, FILES)
    before = sorted(o.key for o in store.list("logs/"))
    options = CompactionOptions(grace_minutes=120)
    # The hour ended 100 minutes ago: Firehose may still deliver into it.
    report = Compactor(store, options, clock_ms=lambda: HOUR_START_MS + 160 * 60_000).run()
    assert report.skipped_open == 1 and not report.partitions
    assert sorted(o.key for o in store.list("logs/")) == before


def test_compact_partition_filter_selects_partitions(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_partition(store, FILES)
    write_partition(store, FILES, "src=json/dt=2025-11-23/hour=10")
    report = compactor(store, partitions=("src=json/*",)).run()
    assert [p.partition for p in report.partitions] == ["src=json/dt=2025-11-23/hour=10"]


def test_compact_dry_run_changes_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_partition(store, FILES)
    before = sorted(o.key for o in store.list(""))
    report = compactor(store, dry_run=True).run()
    assert report.partitions[0].files_before == 5
    assert sorted(o.key for o in store.list("")) == before


OTHER = "src=text/dt=2025-11-23/hour=11"


@pytest.mark.parametrize(
    "bad",
    ["a foreign column", "an empty file", "a file cut short", "a value that does not cast", "a float in an int column"],
)
def test_compact_a_bad_file_leaves_its_partition_alone_and_compacts_the_others(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the run stopped at the bad partition (with a traceback for all but the foreign column),
    so no later partition was ever compacted again."""
    store = LocalStore(tmp_path)
    write_partition(store, FILES[:2])
    write_partition(store, FILES[2:4], partition=OTHER)
    path = tmp_path / "logs" / PARTITION / "bad.parquet"
    good = table_to_parquet(rows_to_table(make_rows(["z"])))
    if bad == "a foreign column":
        pq.write_table(pa.table({"event_id": ["x"], "surprise": [1]}), path)
    elif bad == "an empty file":
        path.write_bytes(b"")
    elif bad == "a file cut short":
        path.write_bytes(good[: len(good) // 2])
    elif bad == "a value that does not cast":
        pq.write_table(pa.table({"event_id": ["x"], "status_code": ["abc"]}), path)
    else:
        pq.write_table(pa.table({"event_id": ["x"], "billed_duration_ms": [1.5]}), path)
    report = compactor(store).run()
    (failed,) = [p for p in report.partitions if p.error is not None]
    assert failed.partition == PARTITION and "bad.parquet" in failed.error
    assert len(list((tmp_path / "logs" / PARTITION).glob("*.parquet"))) == 3
    assert len(list((tmp_path / "logs" / OTHER).glob("*.parquet"))) == 1
    argv = ["compact", "--lake", str(tmp_path), "--grace-minutes", "0"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()  # the progress line, then the error
    assert [line for line in lines if "error" in line] == lines[-1:]
    assert "bad.parquet" in lines[-1] and PARTITION in lines[-1] and "Traceback" not in err


class Crash(Exception):
    pass


def _steps(tmp_path: Path) -> list[str]:
    """The checkpoint names of one full compaction of the test partition."""
    steps: list[str] = []
    store = LocalStore(tmp_path / "probe")
    write_partition(store, FILES)
    compactor(store, merge=MergeOptions(target_bytes=4_000, row_group_bytes=4_000), checkpoint=steps.append).run()
    return steps


@pytest.fixture(scope="module")
def crash_steps(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return _steps(tmp_path_factory.mktemp("steps"))


@pytest.mark.parametrize("step_index", range(12))
def test_compact_crash_at_step_is_repaired_by_rerun(tmp_path: Path, crash_steps: list[str], step_index: int) -> None:
    if step_index >= len(crash_steps):
        pytest.skip("fewer steps")
    step = crash_steps[step_index]
    store = LocalStore(tmp_path)
    write_partition(store, FILES)
    merge = MergeOptions(target_bytes=4_000, row_group_bytes=4_000)  # several outputs: more steps

    def crash(name: str) -> None:
        if name == step:
            raise Crash(name)

    with pytest.raises(Crash):
        compactor(store, merge=merge, checkpoint=crash).run()
    # Readers at the crash: every distinct row is still visible (duplicates are possible while
    # publishing; a missing row never is).
    seen = visible_rows(store)
    assert {r["event_id"] for r in seen} == set(DISTINCT), step
    # The next run (a fresh process) finishes or rolls back, then compacts what is left.
    report = compactor(store, merge=merge).run()
    rows = visible_rows(store)
    assert sorted(r["event_id"] for r in rows) == DISTINCT, step
    assert not list(store.list(MANIFEST_PREFIX))
    assert not [o for o in store.list("logs/") if o.key.endswith(STAGED_SUFFIX)]
    assert report.rolled_forward + report.rolled_back >= (1 if step != "stage:0" else 0)


def test_compact_s3_lake_compacts_and_recovers(aws_env: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake")
    store = S3Store("lake", "prod")
    write_partition(store, FILES)

    def crash(name: str) -> None:
        if name == "retire:1":
            raise Crash(name)

    with pytest.raises(Crash):
        compactor(store, checkpoint=crash).run()
    assert {r["event_id"] for r in visible_rows(store)} == set(DISTINCT)
    report = compactor(store).run()
    assert report.rolled_forward == 1
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]]
    data = [k for k in keys if k.endswith(".parquet")]
    assert len(data) == 1 and data[0].startswith(f"prod/logs/{PARTITION}/stream-processor-compacted-")
    assert not [k for k in keys if "_state/" in k or k.endswith(STAGED_SUFFIX)]
    assert collections.Counter(r["event_id"] for r in visible_rows(store)) == dict.fromkeys(DISTINCT, 1)


def test_compact_partition_larger_than_memory_limit_succeeds(tmp_path: Path) -> None:
    """GIVEN a partition whose files are bigger than the address space the process may use
    WHEN a subprocess under RLIMIT_AS compacts it THEN it succeeds; reading it whole fails there."""
    import subprocess
    import sys

    limit = 400 * MIB
    target = _big_partition(tmp_path / "lake", total_bytes=limit + 64 * MIB)
    script = Path(__file__).with_name("compact_memory_probe.py")
    env = {"MALLOC_ARENA_MAX": "1", "ARROW_DEFAULT_MEMORY_POOL": "system", "PATH": "/usr/bin:/bin"}
    naive = subprocess.run(
        [sys.executable, str(script), str(limit), str(tmp_path / "lake"), "naive"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert naive.returncode != 0 and "MemoryError" in naive.stdout + naive.stderr, naive.stderr[-2000:]
    run = subprocess.run(
        [sys.executable, str(script), str(limit), str(tmp_path / "lake"), "compact"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows_in, rows_out, duplicates = (int(x) for x in run.stdout.split())
    assert duplicates == target["duplicates"] and rows_out == rows_in - duplicates
    files = list((tmp_path / "lake").rglob("*.parquet"))
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == rows_out


def _big_partition(root: Path, total_bytes: int) -> dict[str, int]:
    """Files of incompressible messages (so on-disk size is real size), with some duplicated rows."""
    import base64
    import os

    message_bytes = 16_000
    rows_per_file = 2_000
    files = total_bytes // (message_bytes * rows_per_file) + 1
    duplicates = 0
    for f in range(files):
        ids = [f"id-{f:03d}-{n:05d}" for n in range(rows_per_file)]
        if f:  # every file repeats 10 rows of the one before
            ids[:10] = [f"id-{f - 1:03d}-{n:05d}" for n in range(10, 20)]
            duplicates += 10
        rows = make_rows(ids)
        for row in rows:
            row["message"] = base64.b64encode(os.urandom(message_bytes * 3 // 4)).decode()
        table = rows_to_table(rows)
        path = root / "logs" / PARTITION / f"stream-processor-1-2025-11-23-10-00-00-{f:04d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Row groups of ~8 MB, as the stream's 1 MB Lambda batches would give at most.
        pq.write_table(table, path, row_group_size=500, compression="snappy", use_deprecated_int96_timestamps=True)
        del table, rows
    return {"files": files, "duplicates": duplicates}


@pytest.mark.parametrize("where", ["local", "s3"])
def test_compact_keeps_an_input_replaced_after_it_was_merged(tmp_path: Path, where: str, request: Any) -> None:
    # GIVEN a partition, and a writer that replaces one input while compaction is publishing
    if where == "s3":
        request.getfixturevalue("aws_env")
        boto3.client("s3").create_bucket(Bucket="lake")
        store: ObjectStore = S3Store("lake", "prod")
    else:
        store = LocalStore(tmp_path)
    write_partition(store, FILES)
    replaced = next(o.key for o in store.list("logs/") if o.key.endswith("file002.parquet"))
    newer = table_to_parquet(rows_to_table(make_rows(["late-1", "late-2"])))

    def replace_input(step: str) -> None:
        if step == "retire:0":
            store.put_bytes(replaced, newer)

    # WHEN compaction retires its inputs
    report = compactor(store, checkpoint=replace_input).run()

    # THEN the replaced input is kept (its new rows are in no output), the others are retired
    assert report.kept_changed == 1
    assert store.exists(replaced)
    ids = collections.Counter(r["event_id"] for r in visible_rows(store))
    assert set(ids) == {*DISTINCT, "late-1", "late-2"} and ids["late-1"] == 1
    assert len([o for o in store.list("logs/") if o.key.endswith(".parquet")]) == 2


def test_compact_keeps_the_inputs_when_another_compactor_deletes_its_staged_output(tmp_path: Path) -> None:
    """GIVEN a second compactor starting (its recovery deletes staged files no manifest names) between
    this one's staging and its manifest WHEN this one finishes THEN it fails and keeps every input row
    (before, it retired the inputs of an output that no longer existed: the partition emptied)."""
    store = LocalStore(tmp_path)
    write_partition(store, FILES)

    def second_compactor_starts(step: str) -> None:
        if step == "manifest":
            compactor(store).recover()

    with pytest.raises(CompactionError, match="vanished before the inputs were retired"):
        compactor(store, checkpoint=second_compactor_starts).run()
    assert {r["event_id"] for r in visible_rows(store)} == set(DISTINCT)
    assert not list(store.list(MANIFEST_PREFIX))
    compactor(store).run()
    assert collections.Counter(r["event_id"] for r in visible_rows(store)) == dict.fromkeys(DISTINCT, 1)


def test_compact_cli_on_a_missing_local_lake_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a lake path with nothing there (a typo in a scheduled job)
    missing = tmp_path / "no-such-lake"
    # WHEN compact runs on it THEN it says so in one line and exits non-zero, creating nothing
    assert main(["compact", "--lake", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"stream-processor: error: {missing}: no such lake directory"]
    assert not missing.exists()
