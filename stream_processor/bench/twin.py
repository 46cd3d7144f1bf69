"""Bench: the local twin end to end, fixture files on disk to Parquet files on disk.

Input: a number of log events, the processor buffer size and a run count. Output: log events per
second (wall) and per CPU-second (one core), Parquet bytes per gzip input byte, and where the time
goes (one extra, instrumented run: census, the handler, the reply check, convert, Parquet). After
each run the blueprint-equivalent transform goes over the same records, so the twin's CPU time is
also given as a same-round ratio to it, which compares across hosts and runs where events per
CPU-second do not.
"""

from __future__ import annotations

import base64
import gc
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from stream_processor import native_twin, pipeline
from stream_processor.bench.baselines import blueprint
from stream_processor.bench.offline import offline_handler
from stream_processor.firehose.invoke import Handler
from stream_processor.generate import DEFAULT_START_MS, TrafficGenerator, record_bytes_of
from stream_processor.pipeline import LocalFirehose, RunStats
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import read_fixtures

CLOCK_MS: Final = DEFAULT_START_MS + 3_600_000
_RECORDS_PER_FILE: Final = 200
_ARRIVAL_STEP_MS: Final = 5


def write_fixtures(directory: Path, log_events: int, seed: int = 3) -> int:
    """Firehose-event fixture files holding ``log_events`` data log events; returns the files written."""
    records: list[dict[str, Any]] = []
    files = 0

    def flush() -> None:
        nonlocal files, records
        if records:
            path = directory / f"events-{files:04d}.json"
            path.write_text(json.dumps({"records": records}))
            files += 1
            records = []

    for n, payload in enumerate(TrafficGenerator(seed).payloads(events=log_events)):
        data = base64.b64encode(record_bytes_of(payload)).decode("ascii")
        records.append({"approximateArrivalTimestamp": DEFAULT_START_MS + n * _ARRIVAL_STEP_MS, "data": data})
        if len(records) == _RECORDS_PER_FILE:
            flush()
    flush()
    return files


def blueprint_events(fixtures: Path) -> list[dict[str, Any]]:
    """The fixture files' records as Firehose events for the blueprint (record ids added)."""
    events = []
    for path in sorted(fixtures.glob("*.json")):
        records = json.loads(path.read_text())["records"]
        events.append({"records": [{"recordId": str(n), "data": r["data"]} for n, r in enumerate(records)]})
    return events


def run_blueprint(events: list[dict[str, Any]]) -> float:
    """CPU seconds of the blueprint-equivalent transform over every event (responses discarded)."""
    gc.collect()
    cpu = time.process_time()
    for event in events:
        blueprint(event)
    return time.process_time() - cpu


def run_twin(fixtures: Path, lake: Path, handler: Handler, buffer_mb: float) -> tuple[RunStats, float, float]:
    """One run: (stats, wall seconds, CPU seconds of this process, all threads)."""
    settings = DeliverySettings(processor_buffer_size_mb=buffer_mb)
    firehose = LocalFirehose(lake, settings, handler, clock_ms=lambda: CLOCK_MS, rng=random.Random(0))
    wall, cpu = time.perf_counter(), time.process_time()
    stats = firehose.run(read_fixtures([fixtures], clock_ms=lambda: CLOCK_MS))
    return stats, time.perf_counter() - wall, time.process_time() - cpu


@contextmanager
def _timed(owner: Any, name: str, totals: dict[str, float], label: str) -> Iterator[None]:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def _breakdown(fixtures: Path, lake: Path, handler: Handler, buffer_mb: float) -> dict[str, float]:
    totals: dict[str, float] = {}

    def timed_handler(event: dict[str, Any], context: Any) -> Any:
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            totals["handler"] = totals.get("handler", 0.0) + time.perf_counter() - started

    # convert: JSON rows into checked columns (the batch's Arrow table on the fast path, rows on the
    # row path); arrow: an object's buffered tables and rows into one table; parquet: the bytes.
    with (
        _timed(pipeline, "take_census", totals, "census"),
        _timed(pipeline, "invoke_transform", totals, "invoke"),
        _timed(pipeline, "convert_batch", totals, "convert"),
        _timed(pipeline, "convert_record", totals, "convert"),
        _timed(pipeline, "parts_to_table", totals, "arrow"),
        _timed(pipeline, "table_to_parquet", totals, "parquet"),
    ):
        stats, wall, _ = run_twin(fixtures, lake, timed_handler, buffer_mb)
    totals["invoke_without_handler"] = totals.pop("invoke", 0.0) - totals.get("handler", 0.0)
    totals["other"] = wall - sum(totals.values())
    return {name: seconds / stats.log_events_in * 1e6 for name, seconds in totals.items()}


def measure_twin(log_events: int, buffer_mb: float, runs: int) -> dict[str, Any]:
    """Median over ``runs`` runs into fresh lakes, plus one instrumented run for the breakdown; with the
    twin's native build when ``make`` built a current one (``native_twin``), as the CLI runs it."""
    build = native_twin.load()
    try:
        return {"build": build, **_measure_twin(log_events, buffer_mb, runs)}
    finally:
        native_twin.use(None)


def _measure_twin(log_events: int, buffer_mb: float, runs: int) -> dict[str, Any]:
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    with tempfile.TemporaryDirectory(prefix="bench-twin-") as tmp:
        root = Path(tmp)
        fixtures = root / "fixtures"
        fixtures.mkdir()
        files = write_fixtures(fixtures, log_events)
        runs_out: list[tuple[RunStats, float, float]] = []
        reference = blueprint_events(fixtures)
        blueprint_cpu: list[float] = []
        with offline_handler() as (handler, reingester):
            for n in range(runs):
                runs_out.append(run_twin(fixtures, root / f"lake-{n}", handler, buffer_mb))
                blueprint_cpu.append(run_blueprint(reference))
            breakdown = _breakdown(fixtures, root / "lake-instrumented", handler, buffer_mb)
            reingested = reingester.items
        parquet_files = len(list((root / "lake-0").rglob("*.parquet")))
    stats = runs_out[0][0]
    wall = statistics.median(r[1] for r in runs_out)
    cpu = statistics.median(r[2] for r in runs_out)
    events = stats.log_events_in
    x_blueprint = statistics.median(r[2] / b for r, b in zip(runs_out, blueprint_cpu, strict=True))
    return {
        "fixture_files": files,
        "processor_buffer_mb": buffer_mb,
        "runs": runs,
        "log_events": events,
        "rows_written": stats.rows_written,
        "parquet_files": parquet_files,
        "invocations": stats.invocations,
        "conserved": stats.conserved,
        "reingested_items": reingested,
        "wall_s": wall,
        "cpu_s": cpu,
        "events_per_s": events / wall,
        "events_per_cpu_s": events / cpu,
        "blueprint_us_per_event": statistics.median(blueprint_cpu) / events * 1e6,
        "x_blueprint": x_blueprint,
        "parquet_bytes_per_gzip_byte": stats.parquet_bytes / stats.bytes_in,
        "us_per_event": breakdown,
    }


__all__ = ["blueprint_events", "measure_twin", "run_blueprint", "run_twin", "write_fixtures"]
