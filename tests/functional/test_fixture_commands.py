"""``fixtures generate`` (deterministic synthetic traffic) and ``fixtures record`` (FilterLogEvents
against log events put into moto), round-tripped through the twin."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import boto3
import pytest

from stream_processor.cli import main
from stream_processor.fixture_commands import parse_time_range, redact
from stream_processor.generate import TrafficGenerator
from stream_processor.query import run_query

ROW_COLUMNS = "log_group, log_stream, event_time, message, source"


def _rows(lake: Path) -> list[tuple[object, ...]]:
    return run_query(lake, f"SELECT {ROW_COLUMNS} FROM log_events ORDER BY {ROW_COLUMNS}").rows


def test_fixtures_generate_same_seed_gives_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        args = ["fixtures", "generate", "--events", "800", "--mix", "lambda=1,vpc_flow=1", "--seed", "4"]
        assert main([*args, "-o", str(tmp_path / name)]) == 0
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert [p.name for p in a] == [p.name for p in b]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert main(["run", str(tmp_path / "a"), "--lake", str(tmp_path / "lake")]) == 0
    assert run_query(tmp_path / "lake", "SELECT count(*) FROM log_events").rows == [(800,)]


def test_fixtures_generate_bad_mix_is_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fixtures", "generate", "--events", "5", "--mix", "nope=1", "-o", str(tmp_path)]) == 2
    assert "--mix" in capsys.readouterr().err


def test_fixtures_record_moto_events_round_trip_with_identical_rows(aws_env: str, tmp_path: Path) -> None:
    # GIVEN generated payloads whose events are put into moto under their own groups/streams (rebased to now)
    payloads = [p for p in TrafficGenerator(21, {"lambda": 1, "text": 1}).payloads(events=600)]
    payloads = [p for p in payloads if p["messageType"] == "DATA_MESSAGE"]
    shift = int(time.time() * 1000) - 3_600_000 - min(e["timestamp"] for p in payloads for e in p["logEvents"])
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/rec/app")
    for p in payloads:
        p["logGroup"] = "/rec/app"
        for e in p["logEvents"]:
            e["timestamp"] += shift
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName="/rec/app", logStreamName=p["logStream"])
        logs.put_log_events(
            logGroupName="/rec/app",
            logStreamName=p["logStream"],
            logEvents=[{"timestamp": e["timestamp"], "message": e["message"]} for e in p["logEvents"]],
        )
    (tmp_path / "original").mkdir()
    for n, p in enumerate(payloads):
        (tmp_path / "original" / f"{n:04d}.json").write_text(json.dumps(p))
    # WHEN recorded and both are run through the twin
    assert main(["fixtures", "record", "--log-group", "/rec/app", "--since", "1d", "-o", str(tmp_path / "rec")]) == 0
    assert main(["run", str(tmp_path / "rec"), "--lake", str(tmp_path / "lake-rec")]) == 0
    assert main(["run", str(tmp_path / "original"), "--lake", str(tmp_path / "lake-orig")]) == 0
    # THEN the rows are identical (event ids are the service's own, so they are not compared)
    recorded = _rows(tmp_path / "lake-rec")
    assert len(recorded) == 600
    assert recorded == _rows(tmp_path / "lake-orig")


def test_fixtures_record_missing_group_is_one_line_error(
    aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fixtures", "record", "--log-group", "/none", "--since", "1h", "-o", str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_fixtures_redact_masks_keys_tokens_and_emails() -> None:
    text = "key AKIAABCDEFGHIJKLMNOP auth: Bearer eyJhbGciOi.abc-def_1 mail ops@example.com ok"
    assert redact(text) == "key AKIA**************** auth: Bearer [REDACTED] mail [REDACTED_EMAIL] ok"


def test_fixtures_time_range_since_and_start_end() -> None:
    assert parse_time_range("30m", None, None, 10_000_000) == (8_200_000, 10_000_000)
    assert parse_time_range(None, "2025-11-23T10:00:00Z", "1763892060000", 0) == (1_763_892_000_000, 1_763_892_060_000)
