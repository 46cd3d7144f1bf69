"""Backfill: CloudWatch Logs history (exports, ``FilterLogEvents``) into the lake the stream writes.

Input: units of work (one exported log stream, or one ``FilterLogEvents`` window) yielding
(log group, log stream, ``LogEvent``), the lake's ``ObjectStore`` and the transform config. Output:
Parquet objects in the stream's table, schema and partition layout, made by the stream's own code
(``transform_payload`` -> ``encode_rows`` -> ``convert_record`` -> Parquet); a state file in the
lake so that a rerun skips finished units; ``BackfillStats``. See docs/backfill-and-compaction.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from stream_processor.errors import ConfigError
from stream_processor.firehose.convert import convert_record, rows_to_table, table_to_parquet
from stream_processor.firehose.error_output import (
    FORMAT_CONVERSION_FAILED,
    encode_documents,
    format_conversion_failed_document,
)
from stream_processor.firehose.prefix import evaluate_prefix
from stream_processor.progress import Progress
from stream_processor.settings import DeliverySettings
from stream_processor.sinks.object_store import ObjectStore
from stream_processor.sources.cloudwatch_export import ExportReadStats, find_export_streams, read_export_events
from stream_processor.sources.cloudwatch_logs import HOUR_MS, LogsWindow, read_window_events
from transform_lambda.config import TransformConfig
from transform_lambda.decode import DATA_MESSAGE, LogEvent, Payload
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.timefmt import date_hour_from_epoch_ms, iso_from_epoch_ms
from transform_lambda.transform import transform_payload

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

STATE_PREFIX: Final = "_state/backfill/"
# Payloads are cut like the batches CloudWatch Logs accepts (PutLogEvents: at most 10,000 events and
# 1,048,576 bytes, counting each message's UTF-8 bytes plus 26), and never across an hour boundary.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
MAX_BATCH_EVENTS: Final = 10_000
MAX_BATCH_BYTES: Final = 1_048_576
EVENT_OVERHEAD_BYTES: Final = 26
# NDJSON bytes held per partition (and in open payload batches) before a Parquet object is written:
# half of Firehose's 128 MiB S3 buffer, so memory stays well under a gigabyte.
FLUSH_BYTES_DEFAULT: Final = 64 * 1024 * 1024
Source = Callable[[], Iterator[tuple[str, str, LogEvent]]]


@dataclass(frozen=True, slots=True)
class BackfillUnit:
    """One resumable unit of work: an exported log stream or a ``FilterLogEvents`` window."""

    unit_id: str
    description: str
    size: int
    read: Source


@dataclass(frozen=True, slots=True)
class BackfillOptions:
    """How a backfill writes; ``account_id`` fills ``account_id`` (sources do not carry the owner)."""

    account_id: str
    dry_run: bool = False
    flush_bytes: int = FLUSH_BYTES_DEFAULT
    settings: DeliverySettings = field(default_factory=DeliverySettings)


@dataclass(slots=True)
class BackfillStats:
    """Counts of one backfill run."""

    units_total: int = 0
    units_skipped: int = 0
    units_done: int = 0
    log_events_in: int = 0
    rows_written: int = 0
    parse_errors: int = 0
    events_conversion_failed: int = 0
    orphan_lines: int = 0
    files_written: int = 0
    parquet_bytes: int = 0
    elapsed_s: float = 0.0
    dry_run: bool = False
    partitions: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        """Log events read per second of the run."""
        return self.log_events_in / self.elapsed_s if self.elapsed_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain data (for JSON output)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["events_per_s"] = round(self.events_per_s, 1)
        return out


def export_units(store: ObjectStore, log_group: str | None, read_stats: ExportReadStats) -> list[BackfillUnit]:
    """One unit per (export task, log stream) under ``store``.

    Raises:
        ConfigError: no export objects, or a log group that cannot be recovered.
    """
    units = []
    for stream in find_export_streams(store, log_group):

        def read(stream: Any = stream) -> Iterator[tuple[str, str, LogEvent]]:
            for event in read_export_events(store, stream, read_stats):
                yield stream.log_group, stream.log_stream, event

        description = f"{stream.log_group} {stream.log_stream} ({len(stream.keys)} object(s), task {stream.task_id})"
        units.append(BackfillUnit(stream.unit_id, description, stream.size, read))
    return units


def logs_units(client: CloudWatchLogsClient, windows: list[LogsWindow]) -> list[BackfillUnit]:
    """One unit per ``FilterLogEvents`` window."""
    units = []
    for window in windows:

        def read(window: LogsWindow = window) -> Iterator[tuple[str, str, LogEvent]]:
            for stream, event in read_window_events(client, window):
                yield window.log_group, stream, event

        start, end = iso_from_epoch_ms(window.start_ms), iso_from_epoch_ms(window.end_ms)
        units.append(BackfillUnit(window.unit_id, f"{window.log_group} [{start}, {end})", 0, read))
    return units


@dataclass(slots=True)
class _Batch:
    events: list[LogEvent] = field(default_factory=list)
    bytes: int = 0


@dataclass(slots=True)
class _Pending:
    keys: dict[str, str]
    rows: list[dict[str, object]] = field(default_factory=list)
    bytes: int = 0


def table_prefix(settings: DeliverySettings) -> str:
    """The fixed part of the stream's prefix before the partition keys (``logs/``)."""
    return settings.prefix.split("!{", 1)[0].rpartition("/")[0] + "/"


class Backfill:
    """Writes units into the lake, skipping those the state file records as done.

    Units are written in checkpoints: the rows of consecutive units share Parquet objects (so many
    small log streams do not make many small files) until about ``flush_bytes`` are pending; then
    the objects are written and the checkpoint's units are recorded as done in the state file.
    Object names derive from the checkpoint's first unit, so a rerun after a crash rewrites the same
    objects instead of adding duplicates.
    """

    def __init__(
        self,
        store: ObjectStore,
        source_key: str,
        config: TransformConfig,
        options: BackfillOptions,
        *,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.options = options
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.state_key = f"{STATE_PREFIX}{hashlib.sha256(source_key.encode()).hexdigest()[:16]}.json"
        self.state: dict[str, Any] = {"source": source_key, "units": {}, "checkpoints": {}}
        if store.exists(self.state_key):
            self.state = _read_state(store, self.state_key)
        self.stats = BackfillStats(dry_run=options.dry_run)

    def is_done(self, unit: BackfillUnit) -> bool:
        """Whether an earlier run finished this unit."""
        return unit.unit_id in self.state["units"]

    def run(self, units: list[BackfillUnit], progress: Progress | None = None) -> BackfillStats:
        """Process every unit not done yet, committing a checkpoint every ``flush_bytes``."""
        started = time.perf_counter()
        stats = self.stats
        stats.units_total += len(units)
        checkpoint: _Checkpoint | None = None
        for unit in units:
            if self.is_done(unit):
                stats.units_skipped += 1
                if progress is not None:
                    progress.update(done=1)
                continue
            if checkpoint is None:
                checkpoint = _Checkpoint(self, unit.unit_id)
            events_before = stats.log_events_in
            checkpoint.add(unit)
            stats.units_done += 1
            if progress is not None:
                progress.update(done=1, events=stats.log_events_in - events_before)
            if checkpoint.total_bytes >= self.options.flush_bytes:
                self._commit(checkpoint, progress)
                checkpoint = None
        if checkpoint is not None:
            self._commit(checkpoint, progress)
        stats.elapsed_s += time.perf_counter() - started
        return stats

    def _commit(self, checkpoint: _Checkpoint, progress: Progress | None) -> None:
        rows_before = self.stats.rows_written
        files = checkpoint.flush()
        if progress is not None:
            progress.update(rows=self.stats.rows_written - rows_before)
        if self.options.dry_run:
            return
        for unit_id in checkpoint.unit_ids:
            self.state["units"][unit_id] = checkpoint.digest
        self.state.setdefault("checkpoints", {})[checkpoint.digest] = {
            "units": len(checkpoint.unit_ids),
            "files": files,
        }
        self.store.put_bytes(self.state_key, json.dumps(self.state, indent=1).encode())


def _read_state(store: ObjectStore, key: str) -> dict[str, Any]:
    """A backfill state as this module writes it.

    Raises:
        ConfigError: anything else (a file edited by hand, cut short, or of another tool).
    """
    try:
        state = json.loads(store.read_bytes(key))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{key}: unreadable backfill state (not JSON); move it away to start over") from exc
    if not (
        isinstance(state, dict)
        and isinstance(state.get("units"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in state["units"].items())
        and isinstance(state.setdefault("checkpoints", {}), dict)
    ):
        raise ConfigError(f"{key}: unreadable backfill state (not one this tool wrote); move it away to start over")
    return state


class _Checkpoint:
    """Consecutive units: events -> per-stream, per-hour payloads -> rows -> per-partition objects."""

    def __init__(self, backfill: Backfill, first_unit_id: str) -> None:
        self.backfill = backfill
        self.digest = hashlib.sha256(first_unit_id.encode()).hexdigest()[:16]
        self.unit_ids: list[str] = []
        self.batches: dict[tuple[str, str, int], _Batch] = {}
        self.open_bytes = 0
        self.pending: dict[tuple[str, str, str], _Pending] = {}
        self.pending_bytes = 0
        self.total_bytes = 0  # NDJSON bytes of every row of the checkpoint, written or pending
        self.errors: list[dict[str, Any]] = []
        self.files: list[str] = []
        self.seq = 0

    def add(self, unit: BackfillUnit) -> None:
        """Read one unit and turn all of its events into pending rows."""
        stats = self.backfill.stats
        flush_bytes = self.backfill.options.flush_bytes
        for group, stream, event in unit.read():
            stats.log_events_in += 1
            hour = event.timestamp // HOUR_MS if event.timestamp is not None else -1
            key = (group, stream, hour)
            batch = self.batches.get(key)
            if batch is None:
                batch = self.batches[key] = _Batch()
            size = len(event.message.encode("utf-8", "surrogatepass")) + EVENT_OVERHEAD_BYTES
            if batch.events and (len(batch.events) >= MAX_BATCH_EVENTS or batch.bytes + size > MAX_BATCH_BYTES):
                self._emit(key, self.batches.pop(key))
                batch = self.batches[key] = _Batch()
            batch.events.append(event)
            batch.bytes += size
            self.open_bytes += size
            if self.open_bytes >= flush_bytes:
                self._emit_all()
        self._emit_all()
        self.unit_ids.append(unit.unit_id)

    def flush(self) -> list[str]:
        """Write every pending object (and the conversion failures); returns the keys written."""
        for pending_key in list(self.pending):
            self._write(self.pending.pop(pending_key))
        self._write_errors()
        return self.files

    def _emit_all(self) -> None:
        for key in list(self.batches):
            self._emit(key, self.batches.pop(key))
        self.open_bytes = 0

    def _emit(self, key: tuple[str, str, int], batch: _Batch) -> None:
        group, stream, _ = key
        self.open_bytes -= batch.bytes
        options = self.backfill.options
        stats = self.backfill.stats
        payload = Payload(DATA_MESSAGE, options.account_id, group, stream, (), tuple(batch.events))
        # arrival_time stays null: these rows never went through Firehose (documented decision).
        shaped = transform_payload(payload, None, self.backfill.config)
        data = encode_shaped_rows(shaped.rows)
        converted = convert_record(data)
        if converted.error is not None:
            stats.events_conversion_failed += len(batch.events)
            now = self.backfill.clock_ms()
            error = converted.error
            self.errors.append(
                format_conversion_failed_document(data, now, error.code, error.message, now, options.settings)
            )
            return
        stats.parse_errors += shaped.parse_errors
        times = [e.timestamp for e in batch.events if e.timestamp is not None and iso_from_epoch_ms(e.timestamp)]
        # As the stream does: the partition of a payload is the hour of its earliest event. Payloads
        # never cross an hour here, so every row lands in its own event hour.
        dt, hour = date_hour_from_epoch_ms(min(times) if times else self.backfill.clock_ms())
        pkey = (shaped.source, dt, hour)
        pending = self.pending.get(pkey)
        if pending is None:
            pending = self.pending[pkey] = _Pending({"src": shaped.source, "dt": dt, "hour": hour})
        pending.rows.extend(converted.rows)
        pending.bytes += len(data)
        self.pending_bytes += len(data)
        self.total_bytes += len(data)
        if pending.bytes >= options.flush_bytes:
            self._write(self.pending.pop(pkey))
        elif self.pending_bytes >= 2 * options.flush_bytes:
            # Many partitions each below the threshold: write them all to bound memory.
            for other in list(self.pending):
                self._write(self.pending.pop(other))

    def _write(self, pending: _Pending) -> None:
        self.pending_bytes -= pending.bytes
        if not pending.rows:
            return
        backfill, settings = self.backfill, self.backfill.options.settings
        prefix = evaluate_prefix(settings.prefix, 0, partition_keys=pending.keys, dynamic_partitioning=True)
        # Deterministic names: a rerun of an unfinished checkpoint overwrites its own objects.
        key = f"{prefix}{settings.stream_name}-backfill-{self.digest}-{self.seq:05d}{settings.file_extension}"
        self.seq += 1
        body = table_to_parquet(rows_to_table(pending.rows))
        if not backfill.options.dry_run:
            backfill.store.put_bytes(key, body)
        self.files.append(key)
        stats = backfill.stats
        stats.files_written += 1
        stats.parquet_bytes += len(body)
        stats.rows_written += len(pending.rows)
        partition = prefix[len(table_prefix(settings)) :].rstrip("/")
        stats.partitions[partition] = stats.partitions.get(partition, 0) + len(pending.rows)

    def _write_errors(self) -> None:
        if not self.errors or self.backfill.options.dry_run:
            return
        settings = self.backfill.options.settings
        prefix = evaluate_prefix(
            settings.error_output_prefix, self.backfill.clock_ms(), error_output_type=FORMAT_CONVERSION_FAILED
        )
        self.backfill.store.put_bytes(
            f"{prefix}{settings.stream_name}-backfill-{self.digest}", encode_documents(self.errors)
        )
        self.errors = []


__all__ = [
    "FLUSH_BYTES_DEFAULT",
    "STATE_PREFIX",
    "Backfill",
    "BackfillOptions",
    "BackfillStats",
    "BackfillUnit",
    "export_units",
    "logs_units",
    "table_prefix",
]
