"""Crashes: the twin is killed with SIGKILL at random moments and the same command is run again.
The lake must end up with every log event at least once, no partial or corrupt Parquet file visible,
and no temporary files left; duplicates are measured (event_id removes them)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from stream_processor.generate import TrafficGenerator, record_bytes_of
from stream_processor.query import run_query
from tests.conftest import REPO

KILL_POINTS = int(os.environ.get("CRASH_KILL_POINTS", "6"))


def progress(lake: Path) -> int:
    """Input records the twin has made durable, from its checkpoint file."""
    for path in (lake / ".twin").glob("run-*.json"):
        try:
            return int(json.loads(path.read_text())["records_done"])
        except (OSError, ValueError, KeyError):
            return 0
    return 0


def command(fixtures: Path, lake: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stream_processor",
        "run",
        str(fixtures),
        "--lake",
        str(lake),
        "--checkpoint-every",
        "25",
        "--processor-buffer-size-mb",
        "0.2",
    ]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Counter[str]]:
    root = tmp_path_factory.mktemp("crash-fixtures")
    ids: Counter[str] = Counter()
    for n, payload in enumerate(TrafficGenerator(21, control_rate=0).payloads(events=60_000)):
        (root / f"{n:05d}.gz").write_bytes(record_bytes_of(payload))
        ids.update(e["id"] for e in payload["logEvents"])
    return root, ids


def test_crash_kill_at_random_points_then_resume_loses_nothing(
    fixtures: tuple[Path, Counter[str]], tmp_path: Path
) -> None:
    source, ids = fixtures
    lake = tmp_path / "lake"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(20261123)
    records = len(list(source.glob("*.gz")))
    # Kill points: after randomly chosen, increasing amounts of progress (read from the checkpoint),
    # plus a random delay so some kills land mid-batch and mid-write rather than at a checkpoint.
    targets = sorted(rng.sample(range(records // 10, records * 9 // 10), KILL_POINTS))
    killed = 0
    for target in targets:
        process = subprocess.Popen(
            command(source, lake), env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline and progress(lake) < target:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.15))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait(timeout=60)
    final = subprocess.run(command(source, lake), env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert killed >= KILL_POINTS // 2, "the kills must land while the run is working"

    assert not [p for p in lake.rglob("*") if p.name.startswith(".tmp-")], "temporary files left behind"
    files = list((lake / "logs").rglob("*.parquet"))
    for f in files:
        pq.read_table(f)  # every visible file is whole
    landed = Counter(r[0] for r in run_query(lake, "SELECT event_id FROM log_events").rows)
    assert set(landed) == set(ids), "log events lost"
    duplicates = sum(landed.values()) - len(ids)
    distinct = run_query(lake, "SELECT count(DISTINCT event_id) FROM log_events").rows[0][0]
    assert distinct == len(ids)
    print(
        f"kill points {killed}, rows {sum(landed.values())}, events {len(ids)}, duplicates {duplicates} "
        f"({duplicates / len(ids):.1%})"
    )


def test_crash_rerun_of_a_completed_run_changes_nothing(fixtures: tuple[Path, Counter[str]], tmp_path: Path) -> None:
    source, ids = fixtures
    lake = tmp_path / "lake"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.run(command(source, lake), env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = sorted(p.name for p in lake.rglob("*.parquet"))
    again = subprocess.run(command(source, lake), env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "already delivered" in again.stdout
    assert sorted(p.name for p in lake.rglob("*.parquet")) == before
    rows = run_query(lake, "SELECT count(*), count(DISTINCT event_id) FROM log_events").rows[0]
    assert rows == (len(ids), len(ids))
