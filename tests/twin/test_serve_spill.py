"""serve, a failing worker: every record it accepted (answered 200) and had not written is saved to
a replayable file, whether it was still queued, buffered, in a batch, or in an object whose write
failed; replaying that file completes the lake without losing or repeating a log event."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from stream_processor.errors import SinkError
from stream_processor.firehose.endpoint import AcceptedRecord
from stream_processor.generate import TrafficGenerator, record_bytes_of
from stream_processor.pipeline import LocalFirehose
from stream_processor.serve import LiveStream, ServeError
from stream_processor.settings import DeliverySettings
from stream_processor.sinks.local_dir import LocalDirSink
from stream_processor.sources.fixture import read_fixture
from transform_lambda.handler import lambda_handler


class DiskFillsUp(LocalDirSink):
    """A lake directory that takes ``room`` Parquet objects, then refuses every further one."""

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    def put(self, key: str, body: bytes) -> Path:
        if key.endswith(".parquet"):
            if self.room == 0:
                raise SinkError("No space left on device (test)")
            self.room -= 1
        return super().put(key, body)


def _rows(lake: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in lake.rglob("*.parquet"))


@pytest.mark.parametrize("room", [0, 2])
def test_failed_worker_spills_everything_it_accepted_and_did_not_write(tmp_path: Path, room: int) -> None:
    settings = replace(DeliverySettings(), processor_buffer_interval_s=0, s3_buffer_interval_s=0)
    ticks = itertools.count(1_763_892_000_000, 1_000)
    firehose = LocalFirehose(tmp_path / "lake", settings, lambda_handler)
    firehose.sink = DiskFillsUp(tmp_path / "lake", room)
    live = LiveStream(firehose, lambda: next(ticks))
    payloads = list(TrafficGenerator(7).payloads(events=3_000))
    data_events = sum(len(p["logEvents"]) for p in payloads if p["messageType"] == "DATA_MESSAGE")
    live.start()
    accepted = [AcceptedRecord("firehose", settings.stream_name, record_bytes_of(p)) for p in payloads]
    for start in range(0, len(accepted), 10):
        live.accept(accepted[start : start + 10])
    with pytest.raises(ServeError, match="No space left") as failure:
        live.close()
    assert live.spill_path is not None and str(live.spill_path) in str(failure.value)
    assert live.spilled > 0

    replayed = LocalFirehose(tmp_path / "replayed", settings, lambda_handler).run(
        read_fixture(live.spill_path, lambda: next(ticks))
    )
    assert replayed.records_in == live.spilled
    assert _rows(tmp_path / "lake") + _rows(tmp_path / "replayed") == data_events  # none lost, none twice
