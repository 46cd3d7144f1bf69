"""The twin honours re-ingestion and KPL: records the transform hands back come back into the
stream through the twin's own Firehose/Kinesis endpoint (real boto3 calls on 127.0.0.1) and are
processed again; aggregated Kinesis records are de-aggregated before the transform; nothing is lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from stream_processor.generate import TrafficGenerator, record_bytes_of
from stream_processor.pipeline import LocalFirehose
from stream_processor.query import run_query
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from tests.conftest import data_message
from transform_lambda.handler import lambda_handler

CLOCK = 1_763_900_000_000


def generated(record_bytes: int, seed: int) -> tuple[list[SourceRecord], list[str]]:
    records, ids = [], []
    for payload in TrafficGenerator(seed).payloads(record_bytes=record_bytes):
        records.append(SourceRecord(record_bytes_of(payload), CLOCK, "gen"))
        if payload["messageType"] == "DATA_MESSAGE":
            ids += [e["id"] for e in payload["logEvents"]]
    return records, ids


def lake_ids(lake: Path) -> list[str]:
    return [r[0] for r in run_query(lake, "SELECT event_id FROM log_events").rows]


def test_twin_reingested_records_come_back_and_land_once(tmp_path: Path) -> None:
    records, ids = generated(5_500_000, seed=11)
    settings = DeliverySettings(processor_buffer_size_mb=3.0)
    stats = LocalFirehose(tmp_path, settings, lambda_handler, clock_ms=lambda: CLOCK).run(records)
    assert stats.reingested_records_in > 0 and stats.events_handed_back == stats.reingested_events_in
    assert stats.conserved and stats.records_failed == 0
    assert Counter(lake_ids(tmp_path)) == Counter(ids)


def test_twin_small_buffer_needs_no_reingestion(tmp_path: Path) -> None:
    records, ids = generated(600_000, seed=12)
    settings = DeliverySettings(processor_buffer_size_mb=0.2)
    stats = LocalFirehose(tmp_path, settings, lambda_handler, clock_ms=lambda: CLOCK).run(records)
    assert stats.reingested_records_in == 0 and stats.conserved
    assert Counter(lake_ids(tmp_path)) == Counter(ids)


def test_twin_restores_the_endpoint_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_FIREHOSE", raising=False)
    records, _ = generated(100_000, seed=13)
    LocalFirehose(tmp_path, DeliverySettings(), lambda_handler, clock_ms=lambda: CLOCK).run(records)
    import os

    assert "AWS_ENDPOINT_URL_FIREHOSE" not in os.environ


def aggregate(payloads: list[dict[str, object]]) -> tuple[bytes, list[str]]:
    aggregator = RecordAggregator()
    for n, payload in enumerate(payloads):
        assert aggregator.add_user_record(f"pk-{n}", record_bytes_of(payload)) is None
    _, _, data = aggregator.clear_and_get().get_contents()
    return data, [f"pk-{n}" for n in range(len(payloads))]


def test_twin_kinesis_source_deaggregates_kpl_records(tmp_path: Path) -> None:
    payloads = [
        data_message([(CLOCK + i, f"user record {n} event {i}") for i in range(3)], log_stream=f"s{n}")
        for n in range(4)
    ]
    data, _ = aggregate(payloads)
    settings = DeliverySettings(source_kinesis_stream="source-stream")
    stats = LocalFirehose(tmp_path, settings, lambda_handler, clock_ms=lambda: CLOCK).run(
        [SourceRecord(data, CLOCK, "kpl", "pk-0")]
    )
    assert stats.kpl_user_records == 4 and stats.records_in == 4 and stats.rows_written == 12 and stats.conserved
    streams = run_query(tmp_path, "SELECT log_stream, count(*) FROM log_events GROUP BY 1 ORDER BY 1").rows
    assert streams == [(f"s{n}", 3) for n in range(4)]


def test_twin_direct_put_passes_kpl_records_to_the_transform_whole(tmp_path: Path) -> None:
    payloads = [data_message([(CLOCK, f"direct {n}")]) for n in range(3)]
    data, _ = aggregate(payloads)
    stats = LocalFirehose(tmp_path, DeliverySettings(), lambda_handler, clock_ms=lambda: CLOCK).run(
        [SourceRecord(data, CLOCK, "kpl")]
    )
    assert stats.kpl_user_records == 0 and stats.records_in == 1  # the transform de-aggregated it itself
    assert stats.rows_written == 3 and stats.conserved


def test_twin_two_streams_in_one_process_share_reingestion(tmp_path: Path) -> None:
    import os

    first, first_ids = generated(1_500_000, seed=15)
    second, second_ids = generated(1_500_000, seed=16)
    a = LocalFirehose(
        tmp_path / "a",
        DeliverySettings(stream_name="alpha", processor_buffer_size_mb=3.0),
        lambda_handler,
        clock_ms=lambda: CLOCK,
    )
    b = LocalFirehose(
        tmp_path / "b",
        DeliverySettings(stream_name="beta", processor_buffer_size_mb=3.0),
        lambda_handler,
        clock_ms=lambda: CLOCK,
    )
    before = os.environ.get("AWS_ENDPOINT_URL_FIREHOSE")
    a.open_stream()
    b.open_stream()
    a.put(first)
    b.put(second)
    stats_a, stats_b = a.close_stream(), b.close_stream()
    assert os.environ.get("AWS_ENDPOINT_URL_FIREHOSE") == before
    for stats in (stats_a, stats_b):
        assert stats.reingested_records_in > 0 and stats.records_failed == 0 and stats.conserved
    assert Counter(lake_ids(tmp_path / "a")) == Counter(first_ids)
    assert Counter(lake_ids(tmp_path / "b")) == Counter(second_ids)
