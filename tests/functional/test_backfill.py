"""Backfill: the fixture set, turned into a CloudWatch Logs export, backfills to the rows streaming the
same events produces (column for column except event_id and arrival_time); reruns skip finished work
and keep ids stable; FilterLogEvents keeps the real ids (moto server on 127.0.0.1)."""

from __future__ import annotations

import collections
import gzip
import json
import shutil
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from stream_processor.backfill import Backfill, BackfillOptions, BackfillUnit, export_units, logs_units
from stream_processor.cli import main
from stream_processor.pipeline import LocalFirehose
from stream_processor.settings import DeliverySettings
from stream_processor.sinks.object_store import LocalStore, ObjectStore, S3Store
from stream_processor.sources.cloudwatch_export import (
    DERIVED_ID_PREFIX,
    WRITE_TEST_OBJECT,
    ExportReadStats,
    read_export_events,
)
from stream_processor.sources.cloudwatch_logs import logs_windows
from stream_processor.sources.fixture import read_fixtures
from tests.conftest import FIXTURES
from transform_lambda.config import TransformConfig
from transform_lambda.decode import DATA_MESSAGE, LogEvent, decode_data
from transform_lambda.errors import DecodeError
from transform_lambda.handler import lambda_handler
from transform_lambda.timefmt import iso_from_epoch_ms

CLOCK_MS = 1_763_900_000_000
StreamKey = tuple[str, str, str]  # owner, log group, log stream


def fixture_streams() -> dict[StreamKey, list[LogEvent]]:
    """The DATA_MESSAGE events of every decodable fixture record, per (owner, group, stream), in order.

    Events without a valid timestamp cannot exist in CloudWatch Logs, and ``extractedFields`` exist only
    in subscription deliveries, so neither can appear in an export: both are left out here.
    """
    streams: dict[StreamKey, list[LogEvent]] = collections.defaultdict(list)
    for record in read_fixtures([FIXTURES], clock_ms=lambda: CLOCK_MS):
        try:
            payloads = decode_data(record.data, 1 << 26)
        except DecodeError:
            continue
        for payload in payloads:
            if payload.message_type != DATA_MESSAGE:
                continue
            for event in payload.log_events:
                if event.timestamp is not None and iso_from_epoch_ms(event.timestamp) and not event.extracted_fields:
                    streams[(payload.owner, payload.log_group, payload.log_stream)].append(event)
    return streams


def write_export(root: Path, streams: dict[StreamKey, list[LogEvent]], chunk_events: int = 7) -> None:
    """Lay events out as CreateExportTask does: ``<prefix>/aws-logs-write-test``, then
    ``<prefix>/<task id>/<log stream>/000000.gz``… with ``<ISO time> <message>`` lines. One export
    root per owner; the prefix names the log group percent-encoded (our convention)."""
    for (owner, group, stream), events in streams.items():
        prefix = root / owner / urllib.parse.quote(group, safe="")
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / WRITE_TEST_OBJECT).write_text("Permission Check Successful")
        task = prefix / str(uuid.uuid5(uuid.NAMESPACE_URL, group)) / stream
        task.mkdir(parents=True, exist_ok=True)
        for n in range(0, len(events), chunk_events):
            lines = "".join(
                f"{iso_from_epoch_ms(e.timestamp or 0)} {e.message}\n" for e in events[n : n + chunk_events]
            )
            (task / f"{n // chunk_events:06d}.gz").write_bytes(gzip.compress(lines.encode()))


def lake_rows(root: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(root.glob("logs/src=*/dt=*/hour=*/*.parquet")):
        partition = dict(part.split("=", 1) for part in path.parent.relative_to(root / "logs").parts)
        rows.extend({**row, **partition} for row in pq.read_table(path).to_pylist())
    return rows


def backfill_export(export_root: Path, lake: ObjectStore, **options: Any) -> list[Backfill]:
    runs = []
    for owner_dir in sorted(p for p in export_root.iterdir() if p.is_dir()):
        stats = ExportReadStats()
        units = export_units(LocalStore(owner_dir), None, stats)
        run = Backfill(lake, f"export:{owner_dir}", TransformConfig(), BackfillOptions(owner_dir.name, **options))
        run.run(units)
        runs.append(run)
    return runs


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("backfill")
    write_export(root / "export", fixture_streams())
    firehose = LocalFirehose(root / "stream", DeliverySettings(), lambda_handler, clock_ms=lambda: CLOCK_MS)
    firehose.run(read_fixtures([FIXTURES], clock_ms=lambda: CLOCK_MS))
    backfill_export(root / "export", LocalStore(root / "backfill"))
    return root / "export", root / "stream", root / "backfill"


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["log_group"], row["log_stream"], row["event_time"], row["message"])


def test_backfill_fixture_export_rows_match_stream_rows(lakes: tuple[Path, Path, Path]) -> None:
    _, stream_lake, backfill_lake = lakes
    exported = {(g, s) for (_, g, s) in fixture_streams()}
    expected_events = sum(len(v) for v in fixture_streams().values())
    streamed = [r for r in lake_rows(stream_lake) if (r["log_group"], r["log_stream"]) in exported]
    streamed = [r for r in streamed if not (r.get("fields") and any(k.startswith("@aws.") for k, _ in r["fields"]))]
    backfilled = lake_rows(backfill_lake)
    assert len(backfilled) == len(streamed) == expected_events
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = collections.defaultdict(list)
    for row in streamed:
        by_key[_key(row)].append(row)
    ignored = {"event_id", "arrival_time", "dt", "hour"}
    for row in backfilled:
        twin = by_key[_key(row)].pop(0)
        assert {k: v for k, v in row.items() if k not in ignored} == {
            k: v for k, v in twin.items() if k not in ignored
        }, row["message"]
        assert row["arrival_time"] is None and row["event_id"].startswith(DERIVED_ID_PREFIX)
        # Every backfilled row lands in the hour of its own event time.
        assert (row["dt"], row["hour"]) == (f"{row['event_time']:%Y-%m-%d}", f"{row['event_time']:%H}")


def test_backfill_same_export_twice_gives_same_event_ids(lakes: tuple[Path, Path, Path], tmp_path: Path) -> None:
    export_root, _, backfill_lake = lakes
    backfill_export(export_root, LocalStore(tmp_path))
    first = sorted(r["event_id"] for r in lake_rows(backfill_lake))
    assert first == sorted(r["event_id"] for r in lake_rows(tmp_path))
    assert len(set(first)) == len(first)


def test_backfill_rerun_skips_finished_units(lakes: tuple[Path, Path, Path]) -> None:
    export_root, _, backfill_lake = lakes
    before = sorted(p.name for p in backfill_lake.rglob("*.parquet"))
    runs = backfill_export(export_root, LocalStore(backfill_lake))
    assert all(r.stats.units_done == 0 and r.stats.units_skipped == r.stats.units_total for r in runs)
    assert sorted(p.name for p in backfill_lake.rglob("*.parquet")) == before


def test_backfill_crash_mid_unit_rerun_has_no_duplicates(tmp_path: Path) -> None:
    events = [LogEvent(f"{n:056d}", CLOCK_MS + n * 600_000, f"line {n}") for n in range(30)]  # spans hours

    def unit(fail_at: int | None) -> BackfillUnit:
        def read() -> Iterator[tuple[str, str, LogEvent]]:
            for n, event in enumerate(events):
                if n == fail_at:
                    raise RuntimeError("source went away")
                yield "/app/orders", "i-0abc", event

        return BackfillUnit("logs:/app/orders:0-1", "test", 0, read)

    lake = LocalStore(tmp_path)
    # A tiny flush size writes objects before the crash; the rerun rewrites the same names.
    options = BackfillOptions("123456789012", flush_bytes=200)
    with pytest.raises(RuntimeError):
        Backfill(lake, "logs:/app/orders", TransformConfig(), options).run([unit(fail_at=20)])
    assert lake_rows(tmp_path)  # partial output is visible, and the unit is not marked done
    Backfill(lake, "logs:/app/orders", TransformConfig(), options).run([unit(fail_at=None)])
    ids = [r["event_id"] for r in lake_rows(tmp_path)]
    assert sorted(ids) == [e.id for e in events]


def test_backfill_crash_in_later_checkpoint_rerun_has_no_duplicates(tmp_path: Path) -> None:
    def unit(n: int, fail: bool) -> BackfillUnit:
        def read() -> Iterator[tuple[str, str, LogEvent]]:
            for k in range(5):
                if fail and k == 3:
                    raise RuntimeError("throttled for good")
                yield "/app/orders", f"i-{n}", LogEvent(f"{n}{k:055d}", CLOCK_MS + k, f"event {n}.{k}")

        return BackfillUnit(f"u{n}", "test", 0, read)

    lake = LocalStore(tmp_path)
    options = BackfillOptions("123456789012", flush_bytes=1_500)  # a checkpoint every few units
    first = Backfill(lake, "s", TransformConfig(), options)
    with pytest.raises(RuntimeError):
        first.run([unit(n, fail=n == 6) for n in range(8)])
    assert 0 < len(first.state["units"]) <= 6  # earlier checkpoints were committed
    again = Backfill(lake, "s", TransformConfig(), options)
    again.run([unit(n, fail=False) for n in range(8)])
    assert again.stats.units_skipped == len(first.state["units"])
    ids = [r["event_id"] for r in lake_rows(tmp_path)]
    assert sorted(ids) == sorted(f"{n}{k:055d}" for n in range(8) for k in range(5))


def test_export_reader_multiline_and_identical_events(tmp_path: Path) -> None:
    prefix = tmp_path / "%2Fapp%2Forders" / "0b1c2d3e-0000-4000-8000-000000000001" / "2025/11/23/[$LATEST]ab"
    prefix.mkdir(parents=True)
    text = (
        "continuation without a start\n"
        "2025-11-23T10:00:00.001Z Traceback (most recent call last):\n"
        '  File "app.py", line 1\n'
        "\n"
        "2025-11-23T10:00:00.002Z same\n"
        "2025-11-23T10:00:00.002Z same\n"
        "2025-11-23T10:00:01Z no millis\n"
    )
    (prefix / "000000.gz").write_bytes(gzip.compress(text.encode()))
    store = LocalStore(tmp_path)
    stats = ExportReadStats()
    (unit,) = export_units(store, None, stats)
    assert unit.unit_id.startswith("export:/app/orders:0b1c2d3e")
    events = [e for _, _, e in unit.read()]
    assert [(e.timestamp, e.message) for e in events] == [
        (1_763_892_000_001, 'Traceback (most recent call last):\n  File "app.py", line 1\n'),
        (1_763_892_000_002, "same"),
        (1_763_892_000_002, "same"),
        (1_763_892_001_000, "no millis"),
    ]
    assert events[1].id != events[2].id and stats.orphan_lines == 1
    again = list(read_export_events(store, _only_stream(store), ExportReadStats()))
    assert [e.id for e in again] == [e.id for e in events]


def _only_stream(store: ObjectStore) -> Any:
    from stream_processor.sources.cloudwatch_export import find_export_streams

    (stream,) = find_export_streams(store, None)
    return stream


def test_backfill_dry_run_writes_nothing(lakes: tuple[Path, Path, Path], tmp_path: Path) -> None:
    export_root, _, _ = lakes
    runs = backfill_export(export_root, LocalStore(tmp_path), dry_run=True)
    assert sum(r.stats.rows_written for r in runs) > 0
    assert not any(tmp_path.rglob("*"))


def test_backfill_cli_export_json_summary(
    lakes: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export_root, _, _ = lakes
    owner = export_root / "123456789012"
    argv = ["backfill", "--from-export", str(owner), "--account-id", "123456789012", "--lake", str(tmp_path)]
    assert main([*argv, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_written"] == summary["log_events_in"] > 0 and summary["units_done"] == summary["units_total"]
    assert main(argv) == 0
    assert "already done" in capsys.readouterr().out
    assert main(["backfill", "--from-export", str(owner), "--lake", str(tmp_path)]) == 2
    assert "--account-id" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["cut short", "garbage after it", "not gzip"])
def test_backfill_a_damaged_export_object_is_one_line_naming_it(
    lakes: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    export_root, _, _ = lakes
    owner = tmp_path / "export"
    shutil.copytree(export_root / "123456789012", owner)
    victim = sorted(owner.rglob("000000.gz"))[0]
    body = victim.read_bytes()
    victim.write_bytes(
        {"cut short": body[:-9], "garbage after it": body + b"\0\0garbage", "not gzip": b"2025 text"}[damage]
    )
    argv = ["backfill", "--from-export", str(owner), "--account-id", "123456789012", "--lake", str(tmp_path / "lake")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert victim.name in err and "not a whole gzip file" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("state", ['{"source": "x"}', '{"units": [', "[]", '{"units": {"u": 1}}'])
def test_backfill_an_edited_state_file_is_one_line(
    lakes: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], state: str
) -> None:
    export_root, _, _ = lakes
    argv = ["backfill", "--from-export", str(export_root / "123456789012"), "--account-id", "123456789012"]
    argv += ["--lake", str(tmp_path)]
    assert main(argv) == 0
    (path,) = (tmp_path / "_state" / "backfill").glob("*.json")
    path.write_text(state, encoding="utf-8")
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unreadable backfill state" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("size", ["0", "-5"])
def test_backfill_flush_size_below_one_mb_is_refused(
    lakes: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], size: str
) -> None:
    export_root, _, _ = lakes
    argv = [
        "backfill",
        "--from-export",
        str(export_root / "123456789012"),
        "--account-id",
        "1",
        "--lake",
        str(tmp_path),
    ]
    assert main([*argv, "--flush-mb", size]) == 2
    assert "--flush-mb" in capsys.readouterr().err
    assert not any(tmp_path.rglob("*.parquet"))


def test_backfill_from_logs_keeps_real_event_ids(aws_env: str, tmp_path: Path) -> None:
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")
    logs.create_log_stream(logGroupName="/aws/lambda/orders-api", logStreamName="2025/11/23/[$LATEST]ab")
    # CloudWatch Logs (and moto) refuse events older than 14 days: use recent whole hours.
    start = (int(time.time() * 1000) // 3_600_000 - 3) * 3_600_000
    messages = [f"START RequestId: r-{n} Version: $LATEST" for n in range(25)]
    logs.put_log_events(
        logGroupName="/aws/lambda/orders-api",
        logStreamName="2025/11/23/[$LATEST]ab",
        logEvents=[{"timestamp": start + n * 300_000, "message": m} for n, m in enumerate(messages)],
    )
    real_ids = {
        e["eventId"]
        for e in logs.filter_log_events(logGroupName="/aws/lambda/orders-api", startTime=start, endTime=start + 10**8)[
            "events"
        ]
    }
    windows = logs_windows("/aws/lambda/orders-api", start, start + 2 * 3_600_000)
    units = logs_units(logs, windows)
    stats = Backfill(LocalStore(tmp_path), "logs:x", TransformConfig(), BackfillOptions("123456789012")).run(units)
    rows = lake_rows(tmp_path)
    assert stats.units_done == 2 and len(rows) == 24  # 24 of 25 events fall in the two hours
    assert {r["event_id"] for r in rows} <= real_ids
    hours = {iso_from_epoch_ms(start + h * 3_600_000)[11:13] for h in (0, 1)}  # type: ignore[index]
    assert {r["source"] for r in rows} == {"lambda"} and {r["hour"] for r in rows} == hours


def test_backfill_from_logs_of_one_group_name_in_two_regions_writes_both(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log group's name is unique per account and region only: the second region's history is
    written too (before, the state said its windows were done and it was skipped, exit 0)."""
    start = (int(time.time() * 1000) // 3_600_000 - 2) * 3_600_000
    for region, account in (("us-east-1", "111111111111"), ("eu-west-1", "222222222222")):
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        logs = boto3.client("logs")
        logs.create_log_group(logGroupName="/app/orders")
        logs.create_log_stream(logGroupName="/app/orders", logStreamName="s")
        logs.put_log_events(
            logGroupName="/app/orders",
            logStreamName="s",
            logEvents=[{"timestamp": start + n * 60_000, "message": f"{region} event {n}"} for n in range(5)],
        )
        end = iso_from_epoch_ms(start + 3_600_000)
        args = ["backfill", "--from-logs", "/app/orders", "--start", str(iso_from_epoch_ms(start)), "--end", str(end)]
        assert main([*args, "--account-id", account, "--lake", str(tmp_path)]) == 0
    rows = lake_rows(tmp_path)
    assert collections.Counter(r["account_id"] for r in rows) == {"111111111111": 5, "222222222222": 5}
    assert len({r["event_id"] + r["account_id"] for r in rows}) == 10


def test_backfill_s3_export_into_s3_lake(aws_env: str, lakes: tuple[Path, Path, Path]) -> None:
    export_root, _, backfill_lake = lakes
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="exports")
    s3.create_bucket(Bucket="lake")
    owner = export_root / "123456789012"
    for path in owner.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "exports", "cwl/" + path.relative_to(owner).as_posix())
    units = export_units(S3Store("exports", "cwl"), None, ExportReadStats())
    lake = S3Store("lake", "")
    stats = Backfill(lake, "export:s3", TransformConfig(), BackfillOptions("123456789012")).run(units)
    local = LocalStore(backfill_lake)
    local_rows = Backfill(local, "export:x", TransformConfig(), BackfillOptions("123456789012", dry_run=True))
    assert stats.rows_written == local_rows.run(export_units(LocalStore(owner), None, ExportReadStats())).rows_written
    keys = [o.key for o in lake.list("logs/")]
    assert keys and all(k.endswith(".parquet") for k in keys)
