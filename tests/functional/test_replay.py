"""Replay against real clients: ``replay --to firehose:/kinesis:/logs:`` into a moto server on
127.0.0.1 (behind the fault-injecting proxy for partial failures), read back from what moto holds."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from stream_processor.cli import main
from stream_processor.firehose.kpl import deaggregate_kinesis_record
from stream_processor.fixture_commands import generate_fixtures
from stream_processor.sinks.stream_api import OutgoingRecord, StreamApiSink
from stream_processor.sources.fixture import SourceRecord, read_fixtures
from tests.conftest import create_firehose_to_s3, delivered_bodies
from tests.faults import FaultProxy
from transform_lambda.decode import DATA_MESSAGE, decode_data

ACCOUNT = "123456789012"
BUCKET = "replay-bucket"
STREAM = "replay-stream"


def _data_events(datas: list[bytes]) -> list[tuple[str, str]]:
    """(log stream, message) of every data event in records (concatenated gzip members included)."""
    out = []
    for data in datas:
        for payload in decode_data(data, 1 << 26):
            if payload.message_type == DATA_MESSAGE:
                out += [(payload.log_stream, e.message) for e in payload.log_events]
    return out


@pytest.fixture
def fixtures_dir(tmp_path: Path) -> Path:
    generate_fixtures(tmp_path / "gen", seed=7, mix=None, events=1500, size_mb=None)
    return tmp_path / "gen"


@pytest.fixture
def firehose_to_s3(aws_env: str) -> Iterator[str]:
    create_firehose_to_s3(STREAM, BUCKET)
    yield aws_env


def _inputs(path: Path) -> list[bytes]:
    return [r.data for r in read_fixtures([path], clock_ms=lambda: 0)]


def test_replay_firehose_partial_failures_delivers_every_record_once(
    firehose_to_s3: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    # Every third entry of the first two calls fails; only those are resent.
    with FaultProxy(firehose_to_s3, fail_entry=lambda call, i: call <= 2 and i % 3 == 0) as proxy:
        code = main(["replay", str(fixtures_dir), "--to", f"firehose:{STREAM}", "--endpoint-url", proxy.url])
    assert code == 0
    assert proxy.failed_entries > 0
    assert sorted(_data_events(delivered_bodies(BUCKET))) == sorted(_data_events(_inputs(fixtures_dir)))


def test_replay_firehose_oversized_record_is_reported_to_a_replayable_file(
    firehose_to_s3: str, fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fixtures_dir / "huge.b64").write_bytes(base64.b64encode(os.urandom(1100 * 1024)))
    failed = tmp_path / "not-sent.json"
    code = main(["replay", str(fixtures_dir), "--to", f"firehose:{STREAM}", "--failed-output", str(failed)])
    assert code == 1
    assert "not sent (too_large): 1" in capsys.readouterr().out
    assert [len(d) for d in _inputs(failed)] == [1100 * 1024]
    assert len(delivered_bodies(BUCKET)) == 1  # the 35 other records went in one call


@pytest.mark.parametrize("where", ["a directory", "under a file"])
def test_replay_refuses_an_unusable_failed_output_before_sending_anything(
    firehose_to_s3: str, fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Before, the records went out, the too-large one was refused, and saving it then failed with a
    traceback: a record lost. Now nothing is sent and one line says why."""
    (fixtures_dir / "huge.b64").write_bytes(base64.b64encode(os.urandom(1100 * 1024)))
    (tmp_path / "file").write_text("", encoding="utf-8")
    failed = tmp_path if where == "a directory" else tmp_path / "file" / "not-sent.json"
    code = main(["replay", str(fixtures_dir), "--to", f"firehose:{STREAM}", "--failed-output", str(failed)])
    err = capsys.readouterr().err
    assert code == 2 and "--failed-output" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert delivered_bodies(BUCKET) == []


@pytest.mark.parametrize(
    "flags",
    [["--rate", "nan"], ["--rate", "inf"], ["--rate", "1e-320"], ["--rate", "0"], ["--endpoint-url", "notaurl"]],
)
def test_replay_bad_pace_or_endpoint_is_one_line(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    code = main(["replay", str(fixtures_dir), "--to", "firehose:x", "--region", "us-east-1", *flags])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_replay_stream_sink_persistent_failure_returns_the_records() -> None:
    class AlwaysFailing:
        def put_record_batch(self, **kwargs: object) -> dict[str, object]:
            records = kwargs["Records"]
            assert isinstance(records, list)
            return {
                "FailedPutCount": len(records),
                "RequestResponses": [{"ErrorCode": "InternalFailure"}] * len(records),
            }

    sink = StreamApiSink("firehose", "s", AlwaysFailing(), max_attempts=3, sleep=lambda _: None)
    records = [OutgoingRecord(b"a"), OutgoingRecord(b"b")]
    assert sink.put(records) == records
    assert sink.counts.calls == 3
    assert sink.counts.retried_entries == 4


def test_replay_kinesis_aggregated_partial_failures_delivers_every_event(aws_env: str, fixtures_dir: Path) -> None:
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    with FaultProxy(aws_env, fail_entry=lambda call, i: call == 1 and i == 0) as proxy:
        code = main(
            ["replay", str(fixtures_dir), "--to", f"kinesis:{STREAM}", "--aggregate", "--endpoint-url", proxy.url]
        )
    assert code == 0
    assert proxy.failed_entries == 1
    iterator = kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    got = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
    users = [
        u.data for r in got for u in deaggregate_kinesis_record(SourceRecord(r["Data"], 0, "k", r["PartitionKey"]))
    ]
    assert len(got) < len(users)  # aggregated on the wire
    assert sorted(_data_events(users)) == sorted(_data_events(_inputs(fixtures_dir)))


@pytest.fixture
def subscribed_group(firehose_to_s3: str) -> str:
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/replay/app")
    arn = f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{STREAM}"
    logs.put_subscription_filter(
        logGroupName="/replay/app",
        filterName="all",
        filterPattern="",
        destinationArn=arn,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/cwl",
    )
    return "/replay/app"


def test_replay_logs_rebased_events_reach_firehose_through_the_subscription(
    subscribed_group: str, fixtures_dir: Path
) -> None:
    code = main(["replay", str(fixtures_dir), "--to", f"logs:{subscribed_group}", "--create", "--rebase-time"])
    assert code == 0
    delivered = _data_events(delivered_bodies(BUCKET))
    assert sorted(delivered) == sorted(_data_events(_inputs(fixtures_dir)))


def test_replay_logs_old_events_are_skipped_and_written_for_replay(
    subscribed_group: str, fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = tmp_path / "old.json"
    code = main(["replay", str(fixtures_dir), "--to", f"logs:{subscribed_group}:fixed", "--failed-output", str(failed)])
    assert code == 1  # the generated traffic is from 2025-11-23: older than 14 days
    assert "not sent (too_old): 1,500" in capsys.readouterr().out
    assert delivered_bodies(BUCKET) == []
    # The file is a fixture: replaying it rebased sends everything.
    assert main(["replay", str(failed), "--to", f"logs:{subscribed_group}:fixed", "--create", "--rebase-time"]) == 0
    messages = sorted(m for _, m in _data_events(delivered_bodies(BUCKET)))
    assert messages == sorted(m for _, m in _data_events(_inputs(fixtures_dir)))


def test_replay_logs_missing_group_without_create_is_one_line_error(
    aws_env: str, fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", str(fixtures_dir), "--to", "logs:/nope", "--rebase-time"])
    assert code == 1
    assert "does not exist (pass --create)" in capsys.readouterr().err


def test_replay_bad_target_is_usage_error(fixtures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(fixtures_dir), "--to", "s3:bucket"]) == 2
    assert "expected local" in capsys.readouterr().err


def test_replay_local_loop_twice_doubles_rows(fixtures_dir: Path, tmp_path: Path) -> None:
    assert main(["replay", str(fixtures_dir), "--lake", str(tmp_path / "lake"), "--loop", "2", "--json"]) == 0
    from stream_processor.query import run_query

    result = run_query(tmp_path / "lake", "SELECT count(*), count(DISTINCT event_id) FROM log_events")
    assert result.rows == [(3000, 1500)]


def test_replay_dry_run_sends_nothing(fixtures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(fixtures_dir), "--to", "kinesis:nowhere", "--dry-run", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records_sent"] == summary["records_in"] == len(list(fixtures_dir.iterdir()))
