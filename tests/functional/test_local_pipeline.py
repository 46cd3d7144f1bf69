"""The whole local pipeline: fixtures -> transform -> local Firehose -> Parquet lake -> SQL.
Counts are checked against an independent reading of the fixtures, so a lost event fails a test."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from stream_processor.firehose.convert import arrow_schema
from stream_processor.pipeline import LocalFirehose, RunStats
from stream_processor.query import run_query
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import fixture_paths, read_fixtures
from tests.conftest import FIXTURES
from transform_lambda.handler import lambda_handler, lambda_handler_bytes
from transform_lambda.schema import COLUMNS

CLOCK_MS = 1_763_900_000_000


def independent_census(paths: list[Path]) -> tuple[int, int, set[str]]:
    """(data events in decodable records, control events, ids of data events), read without the project."""
    data_events = control_events = 0
    ids: set[str] = set()

    def count(raw: bytes) -> None:
        nonlocal data_events, control_events
        try:
            text = zlib.decompress(raw, 47) if raw[:1] in (b"\x1f", b"\x78") else raw
            doc = json.loads(text)
            events = doc["logEvents"]
            assert isinstance(events, list) and all(isinstance(e["message"], str) for e in events)
        except Exception:
            return
        if doc["messageType"] == "CONTROL_MESSAGE":
            control_events += len(events)
        elif doc["messageType"] == "DATA_MESSAGE":
            data_events += len(events)
            ids.update(str(e["id"]) for e in events)

    for path in fixture_paths(paths):
        if path.suffix == ".b64":
            count(base64.b64decode(path.read_text()))
        elif path.suffix == ".gz":
            count(path.read_bytes())
        else:
            doc = json.loads(path.read_text())
            if "records" in doc:
                for record in doc["records"]:
                    with contextlib.suppress(ValueError):
                        count(base64.b64decode(record["data"], validate=True))
            else:
                count(json.dumps(doc).encode())
    return data_events, control_events, ids


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunStats]:
    root = tmp_path_factory.mktemp("lake")
    firehose = LocalFirehose(root, DeliverySettings(), lambda_handler, clock_ms=lambda: CLOCK_MS)
    stats = firehose.run(read_fixtures([FIXTURES], clock_ms=lambda: CLOCK_MS))
    return root, stats


def test_pipeline_conserves_every_log_event(lake: tuple[Path, RunStats]) -> None:
    _, stats = lake
    data_events, control_events, _ = independent_census([FIXTURES])
    assert stats.log_events_in == data_events + control_events
    assert stats.rows_written == data_events
    assert stats.events_dropped_control == control_events
    assert stats.events_failed == 0 and stats.events_handed_back == 0
    assert stats.conserved
    assert stats.contract_errors == 0


def test_pipeline_counts_results_of_the_mixed_fixture(lake: tuple[Path, RunStats]) -> None:
    _, stats = lake
    assert stats.records_failed == 6  # the six corrupt records of mixed-corrupt.json
    assert stats.records_dropped == 1  # the control message
    assert stats.records_in == stats.records_ok + stats.records_dropped + stats.records_failed


def test_pipeline_writes_hive_partitions_with_firehose_object_names(lake: tuple[Path, RunStats]) -> None:
    root, stats = lake
    files = sorted((root / "logs").rglob("*.parquet"))
    assert len(files) == stats.files_written > 0
    for f in files:
        parts = f.relative_to(root / "logs").parts
        assert [p.split("=")[0] for p in parts[:3]] == ["src", "dt", "hour"]
        assert f.name.startswith("stream-processor-1-")
    assert not list(root.rglob(".tmp-*"))


def test_pipeline_parquet_files_carry_exactly_the_schema(lake: tuple[Path, RunStats]) -> None:
    root, _ = lake
    expected = arrow_schema()
    timestamp_columns = [c.name for c in COLUMNS if c.type == "timestamp"]
    for f in (root / "logs").rglob("*.parquet"):
        parquet = pq.ParquetFile(f)
        schema = parquet.schema_arrow
        assert schema.names == expected.names
        for name in expected.names:
            if name in timestamp_columns:  # INT96 reads back as ns; the physical type is what matters
                assert parquet.schema.column(schema.get_field_index(name)).physical_type == "INT96"
            else:
                assert schema.field(name).type.equals(expected.field(name).type), name


def test_pipeline_lake_queries_back_every_event_id(lake: tuple[Path, RunStats]) -> None:
    root, stats = lake
    _, _, ids = independent_census([FIXTURES])
    result = run_query(root, "SELECT event_id FROM stream_processor.log_events")
    assert len(result.rows) == stats.rows_written
    assert {r[0] for r in result.rows} == ids


def test_pipeline_query_prunes_by_partition_and_reads_types(lake: tuple[Path, RunStats]) -> None:
    root, _ = lake
    result = run_query(
        root,
        "SELECT count(*), min(event_time), max(duration_ms) FROM log_events "
        "WHERE src = 'lambda' AND dt = '2025-11-23' AND hour = '10'",
    )
    ((count, first, longest),) = result.rows
    assert count > 0
    assert first.isoformat().startswith("2025-11-23T10:")
    assert longest is None or isinstance(longest, float)


def test_pipeline_failed_records_are_kept_as_processing_failed_documents(lake: tuple[Path, RunStats]) -> None:
    root, stats = lake
    docs: list[dict[str, Any]] = []
    for f in (root / "errors" / "processing-failed").rglob("stream-processor-1-*"):
        docs += [json.loads(line) for line in f.read_text().splitlines()]
    assert len(docs) == stats.records_failed
    for doc in docs:
        assert set(doc) == {
            "attemptsMade",
            "arrivalTimestamp",
            "errorCode",
            "errorMessage",
            "attemptEndingTimestamp",
            "rawData",
            "lambdaArn",
        }
        base64.b64decode(doc["rawData"], validate=True)
    corrupt = json.loads((FIXTURES / "events" / "mixed-corrupt.json").read_text())["records"]
    raw = {base64.b64decode(d["rawData"]) for d in docs}
    assert base64.b64decode(corrupt[2]["data"]) in raw  # the truncated gzip, byte for byte


def test_pipeline_rerun_into_a_fresh_lake_gives_the_same_rows(tmp_path: Path, lake: tuple[Path, RunStats]) -> None:
    root, _ = lake
    LocalFirehose(tmp_path, DeliverySettings(), lambda_handler, clock_ms=lambda: CLOCK_MS).run(
        read_fixtures([FIXTURES], clock_ms=lambda: CLOCK_MS)
    )
    sql = "SELECT event_id, message, level, source FROM log_events ORDER BY event_id, message"
    assert run_query(tmp_path, sql).rows == run_query(root, sql).rows


def test_pipeline_bytes_entry_point_gives_the_same_lake(tmp_path: Path, lake: tuple[Path, RunStats]) -> None:
    # lambda_handler_bytes: the same response, encoded by the handler instead of by the runtime.
    root, stats = lake
    encoded = LocalFirehose(tmp_path, DeliverySettings(), lambda_handler_bytes, clock_ms=lambda: CLOCK_MS).run(
        read_fixtures([FIXTURES], clock_ms=lambda: CLOCK_MS)
    )
    assert encoded.conserved and encoded.rows_written == stats.rows_written
    assert encoded.records_failed == stats.records_failed and encoded.contract_errors == stats.contract_errors == 0
    sql = "SELECT * FROM log_events ORDER BY event_id, message"
    assert run_query(tmp_path, sql).rows == run_query(root, sql).rows
    partitions = sorted(p.parent.relative_to(root) for p in root.rglob("*.parquet"))  # names end in a uuid
    assert partitions == sorted(p.parent.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))


def test_pipeline_small_processor_buffer_gives_more_invocations_same_rows(tmp_path: Path) -> None:
    settings = DeliverySettings(processor_buffer_size_mb=0.2, processor_buffer_interval_s=0)
    stats = LocalFirehose(tmp_path, settings, lambda_handler, clock_ms=lambda: CLOCK_MS).run(
        read_fixtures([FIXTURES], clock_ms=lambda: CLOCK_MS)
    )
    data_events, _, _ = independent_census([FIXTURES])
    assert stats.invocations > 1 and stats.rows_written == data_events and stats.conserved


def test_pipeline_raw_gzip_fixture_is_read_byte_for_byte(tmp_path: Path) -> None:
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "1",
        "logGroup": "g",
        "logStream": "s",
        "subscriptionFilters": [],
        "logEvents": [{"id": "e1", "timestamp": 1_763_892_900_000, "message": "m"}],
    }
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "p.gz").write_bytes(gzip.compress(json.dumps(payload).encode()))
    stats = LocalFirehose(tmp_path / "lake", DeliverySettings(), lambda_handler).run(
        read_fixtures([tmp_path / "in"], clock_ms=lambda: CLOCK_MS)
    )
    assert stats.rows_written == 1
    assert run_query(tmp_path / "lake", "SELECT message FROM log_events").rows == [("m",)]


def test_pipeline_empty_lake_query_has_the_schema(tmp_path: Path) -> None:
    result = run_query(tmp_path, "SELECT * FROM log_events")
    assert result.rows == [] and "event_time" in result.columns and "src" in result.columns
