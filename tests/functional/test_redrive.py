"""Redrive: documents in Firehose's error output go through the current transform again, locally or
into a Firehose stream (moto on 127.0.0.1, read from a moto S3 bucket); a second run sends nothing
twice; a dry run changes nothing."""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from stream_processor.pipeline import LocalFirehose
from stream_processor.query import run_query
from stream_processor.redrive import LocalErrorStore, S3ErrorStore, run_redrive
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from tests.conftest import create_firehose_to_s3, data_message, delivered_bodies
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import decode_data
from transform_lambda.handler import lambda_handler

CLOCK = 1_763_900_000_000
SETTINGS = DeliverySettings()


def payloads(n: int) -> list[dict[str, Any]]:
    return [
        data_message([(CLOCK + 10 * k + i, f"record {k} event {i}") for i in range(3)], log_stream=f"s{k}")
        for k in range(n)
    ]


def source(ps: list[dict[str, Any]]) -> list[SourceRecord]:
    return [SourceRecord(gzip.compress(json.dumps(p).encode(), mtime=0), CLOCK, "t") for p in ps]


def all_ids(ps: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for p in ps for e in p["logEvents"]]


def broken(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("a bad deploy")


def wrong_types(event: dict[str, Any], context: Any) -> Any:
    response = lambda_handler(event, context)
    for entry in response["records"]:
        rows = [json.loads(line) for line in base64.b64decode(entry["data"]).splitlines()]
        for row in rows:
            row["status_code"] = "200"  # a string in an int column: the conversion rejects it
        entry["data"] = base64.b64encode(b"".join(json.dumps(r).encode() + b"\n" for r in rows)).decode()
    return response


@pytest.fixture
def failed_lake(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A lake whose error output holds processing-failed and format-conversion-failed documents."""
    ps = payloads(6)
    LocalFirehose(tmp_path, SETTINGS, broken, clock_ms=lambda: CLOCK).run(source(ps[:3]))
    LocalFirehose(tmp_path, SETTINGS, wrong_types, clock_ms=lambda: CLOCK).run(source(ps[3:]))
    assert not list((tmp_path / "logs").rglob("*.parquet"))
    return tmp_path, ps


def lake_ids(lake: Path) -> list[str]:
    return [r[0] for r in run_query(lake, "SELECT event_id FROM log_events").rows]


def test_redrive_local_sends_every_document_through_the_transform_once(failed_lake: tuple[Path, list[Any]]) -> None:
    lake, ps = failed_lake
    store = LocalErrorStore(lake / "errors")
    report, stats = run_redrive(store, to="local", lake=lake, settings=SETTINGS)
    assert report.documents == 6 and report.redriven == 6 and report.unrecoverable == 0
    assert report.by_code == Counter(
        {
            "processing-failed: Lambda.FunctionError": 3,
            "format-conversion-failed: DataFormatConversion.MalformedData": 3,
        }
    )
    assert stats is not None and stats.conserved
    assert Counter(lake_ids(lake)) == Counter(all_ids(ps))
    again, _ = run_redrive(store, to="local", lake=lake, settings=SETTINGS)
    assert again.already_redriven == 6 and again.redriven == 0
    assert Counter(lake_ids(lake)) == Counter(all_ids(ps))  # nothing twice


def test_redrive_rebuilt_rows_keep_event_ids_times_and_messages(failed_lake: tuple[Path, list[Any]]) -> None:
    lake, ps = failed_lake
    run_redrive(LocalErrorStore(lake / "errors"), to="local", lake=lake, settings=SETTINGS)
    rows = run_query(lake, "SELECT event_id, message, log_stream, epoch_ms(event_time) FROM log_events").rows
    expected = {(e["id"], e["message"], p["logStream"], e["timestamp"]) for p in ps for e in p["logEvents"]}
    assert set(rows) == expected


def test_redrive_dry_run_changes_nothing(failed_lake: tuple[Path, list[Any]]) -> None:
    lake, _ = failed_lake
    before = sorted(p.relative_to(lake) for p in lake.rglob("*"))
    report, stats = run_redrive(
        LocalErrorStore(lake / "errors"), to="local", lake=lake, settings=SETTINGS, dry_run=True
    )
    assert report.documents == 6 and report.redriven == 0
    assert stats is not None and stats.rows_written == 18  # what would happen
    assert sorted(p.relative_to(lake) for p in lake.rglob("*")) == before


def test_redrive_unreadable_documents_are_reported_not_sent(tmp_path: Path) -> None:
    (tmp_path / "processing-failed").mkdir()
    (tmp_path / "processing-failed" / "obj").write_text('{"errorCode":"X","rawData":"%%%"}\nnot json\n')
    report, _ = run_redrive(LocalErrorStore(tmp_path), to="local", lake=tmp_path / "lake", settings=SETTINGS)
    assert report.unrecoverable == 2 and report.redriven == 0
    assert report.problems == Counter({"rawData is not base64": 1, "not a JSON document": 1})


def test_redrive_from_s3_into_a_firehose_stream(aws_env: str, failed_lake: tuple[Path, list[Any]]) -> None:
    lake, ps = failed_lake
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="errors-bucket")
    create_firehose_to_s3("redrive-target", "delivery-bucket", prefix=None)
    for path in (lake / "errors").rglob("stream-processor-*"):
        s3.put_object(Bucket="errors-bucket", Key=f"errors/{path.relative_to(lake / 'errors')}", Body=path.read_bytes())
    store = S3ErrorStore("s3://errors-bucket/errors/", s3)
    report, _ = run_redrive(store, to="firehose:redrive-target", lake=lake, settings=SETTINGS, region="us-east-1")
    assert report.redriven == 6 and report.not_sent == 0
    delivered = [
        e.id
        for body in delivered_bodies("delivery-bucket")
        for p in decode_data(body, MAX_DECOMPRESSED_BYTES)
        for e in p.log_events
    ]
    assert Counter(delivered) == Counter(all_ids(ps))
    again, _ = run_redrive(store, to="firehose:redrive-target", lake=lake, settings=SETTINGS, region="us-east-1")
    assert again.already_redriven == 6 and again.redriven == 0


def test_redrive_unknown_target_is_a_config_error(tmp_path: Path) -> None:
    from stream_processor.errors import ConfigError

    with pytest.raises(ConfigError, match="expected local or firehose:STREAM"):
        run_redrive(LocalErrorStore(tmp_path), to="s3:nope", lake=tmp_path, settings=SETTINGS)
