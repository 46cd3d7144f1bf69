"""The local Firehose twin: source -> buffer -> invoke (the real transform) -> convert -> sink.

Input: ``SourceRecord`` items. Output: Parquet objects under the lake's table prefix, error documents
under the error prefix, and ``RunStats`` with the counts and the conservation check
(log events in = rows written + events in dropped control messages + events in failed records).
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_processor.checkpoint import Checkpoint, Progress
from stream_processor.errors import ConfigError
from stream_processor.firehose.buffer import MIB, ProcessorBuffer
from stream_processor.firehose.census import Census, take_census
from stream_processor.firehose.convert import ConvertedRecord, convert_record, parts_to_table, table_to_parquet
from stream_processor.firehose.convert_columns import convert_batch
from stream_processor.firehose.endpoint import AcceptedRecord
from stream_processor.firehose.error_output import (
    FORMAT_CONVERSION_FAILED,
    PROCESSING_FAILED,
    encode_documents,
    format_conversion_failed_document,
    processing_failed_document,
)
from stream_processor.firehose.invoke import Handler, Invocation, RecordIds, RecordReply, invoke_transform
from stream_processor.firehose.kpl import deaggregate_kinesis_record
from stream_processor.firehose.object_buffer import PendingErrors, PendingObject
from stream_processor.firehose.prefix import PrefixError, evaluate_prefix, keys_only, object_name, validate_prefixes
from stream_processor.firehose.reingest_hub import reingestion
from stream_processor.settings import DeliverySettings
from stream_processor.sinks.local_dir import LocalDirSink
from stream_processor.sources.fixture import SourceRecord
from transform_lambda.kpl import is_aggregated

# A pending S3 object: the record's partition keys, sorted (none without dynamic partitioning).
ObjectKey = tuple[tuple[str, str], ...]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RunStats:
    """Counts of one run of the twin."""

    records_in: int = 0
    records_ok: int = 0
    records_dropped: int = 0
    records_failed: int = 0
    records_conversion_failed: int = 0
    records_undecodable: int = 0
    log_events_in: int = 0
    events_dropped_control: int = 0
    events_handed_back: int = 0
    events_failed: int = 0
    reingested_records_in: int = 0
    reingested_events_in: int = 0
    kpl_user_records: int = 0
    records_skipped: int = 0
    rows_written: int = 0
    files_written: int = 0
    error_files_written: int = 0
    bytes_in: int = 0
    parquet_bytes: int = 0
    invocations: int = 0
    contract_errors: int = 0
    unknown_keys_dropped: int = 0
    elapsed_s: float = 0.0
    failure_codes: dict[str, int] = field(default_factory=dict)

    @property
    def conserved(self) -> bool:
        """Every log event in is a row, a dropped control event, or in a failed record; every data
        event the transform handed back for re-ingestion came back into the stream."""
        accounted = self.rows_written + self.events_dropped_control + self.events_failed
        return (
            self.log_events_in + self.reingested_events_in == accounted + self.events_handed_back
            and self.events_handed_back == self.reingested_events_in
        )

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain data (for JSON output)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["conserved"] = self.conserved
        return out


class LocalFirehose:
    """One emulated delivery stream writing to a lake directory."""

    def __init__(
        self,
        lake: Path,
        settings: DeliverySettings,
        handler: Handler,
        *,
        clock_ms: Callable[[], int] | None = None,
        rng: random.Random | None = None,
        quiet_transform: bool = True,
    ) -> None:
        """Raises:
        ConfigError: the prefixes or buffer hints would be rejected by Firehose.
        """
        validate_prefixes(settings.prefix, settings.error_output_prefix, settings.dynamic_partitioning)
        self.settings = settings
        self.handler = handler
        self.quiet_transform = quiet_transform
        self.sink = LocalDirSink(lake)
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.rng = rng or random.Random()
        self.stats = RunStats()
        self._ids = RecordIds()
        self._objects: dict[ObjectKey, PendingObject] = {}
        self._errors: dict[str, PendingErrors] = {}
        self._returned_census: dict[int, Census] = {}
        # Partition keys whose prefix evaluated, when it evaluates from the keys alone: their records
        # need no second look (dynamic partitioning only).
        self._keys_checked: set[ObjectKey] | None = (
            set() if settings.dynamic_partitioning and keys_only(settings.prefix) else None
        )
        # Records taken into a batch and not yet routed (a failure mid-batch leaves them here).
        self._in_flight: dict[int, SourceRecord] = {}
        # The open stream of ``open_stream`` (processor buffer, handed-back records, re-ingestion).
        self._live: tuple[ProcessorBuffer, deque[SourceRecord], ExitStack] | None = None
        # The processor buffer and handed-back records of the last stream, once it closed on an error.
        self._abandoned: tuple[ProcessorBuffer, deque[SourceRecord]] | None = None
        self.sink.clean_temporary_files()

    def run(
        self,
        records: Iterable[SourceRecord],
        *,
        checkpoint: Checkpoint | None = None,
        checkpoint_every: int = 10_000,
    ) -> RunStats:
        """Deliver every record (and every record the transform re-ingests), flush every buffer,
        and return the counts.

        With a ``checkpoint``, every ``checkpoint_every`` input records all buffers are flushed and
        the position saved; a rerun of the same input skips what a previous run made durable.
        """
        started = time.perf_counter()
        settings = self.settings
        buffer = ProcessorBuffer(settings.processor_buffer_size_mb, settings.processor_buffer_interval_s)
        returned: deque[SourceRecord] = deque()
        progress = checkpoint.load() if checkpoint is not None else Progress(0, False)
        self.stats.records_skipped = progress.records_done
        position = 0
        with self._reingest_endpoint(returned):
            for position, record in enumerate(self._source_records(records), start=1):
                if position <= progress.records_done:
                    continue
                for batch in buffer.add(record):
                    self.process_batch(batch)
                self._take_back(returned, buffer)
                if checkpoint is not None and position % checkpoint_every == 0:
                    self._drain(buffer, returned)
                    checkpoint.save(Progress(position, False))
            self._drain(buffer, returned)
            if checkpoint is not None:
                if position < progress.records_done:  # nothing was delivered: every record was skipped
                    raise ConfigError(
                        f"{checkpoint.path}: says {progress.records_done:,} input records were delivered, but the "
                        f"input has {position:,}; remove it to start over"
                    )
                checkpoint.save(Progress(progress.records_done + self.stats.records_in, True))
        self.stats.elapsed_s += time.perf_counter() - started
        return self.stats

    def _drain(self, buffer: ProcessorBuffer, returned: deque[SourceRecord]) -> None:
        """Process everything buffered or handed back, then write every pending object."""
        while True:
            rest = buffer.flush()
            if rest:
                self.process_batch(rest)
            if not returned:
                break
            self._take_back(returned, buffer)
        self.flush()

    def _source_records(self, records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
        """As the stream's source hands them over: KPL aggregates are de-aggregated for a Kinesis source."""
        for record in records:
            if self.settings.source_kinesis_stream is not None and is_aggregated(record.data):
                users = deaggregate_kinesis_record(record)
                self.stats.kpl_user_records += len(users)
                yield from users
            else:
                yield record

    def _take_back(self, returned: deque[SourceRecord], buffer: ProcessorBuffer) -> None:
        """Feed records the transform re-ingested back into the stream, counted apart from the input."""
        while returned:
            record = returned.popleft()
            census = take_census(record.data)
            self.stats.reingested_records_in += 1
            self.stats.reingested_events_in += census.events - census.control_events
            self._returned_census[id(record)] = census
            for batch in buffer.add(record):
                self.process_batch(batch)

    @contextmanager
    def _reingest_endpoint(self, returned: deque[SourceRecord]) -> Iterator[None]:
        """Receive the transform's re-ingestion for this stream through the process's loopback
        Firehose/Kinesis endpoint (shared by every twin stream in the process)."""
        settings = self.settings

        def accept(accepted: list[AcceptedRecord]) -> None:
            now = self.clock_ms()
            returned.extend(SourceRecord(a.data, now, f"reingested:{a.service}", a.partition_key) for a in accepted)

        with reingestion(settings.stream_name, settings.source_kinesis_stream, accept):
            yield

    def process_batch(self, batch: list[SourceRecord]) -> None:
        """Invoke the transform on one batch and route each record by its result."""
        stats = self.stats
        censuses: list[Census] = []
        stats.invocations += 1
        self._in_flight.update((id(record), record) for record in batch)
        for record in batch:
            returned = self._returned_census.pop(id(record), None)
            census = returned or take_census(record.data)
            censuses.append(census)
            if returned is None:  # re-ingested records were counted when they came back
                stats.records_in += 1
                stats.bytes_in += len(record.data)
                stats.log_events_in += census.events
                stats.records_undecodable += census.decode_error is not None
        invocation = invoke_transform(self.handler, batch, self.settings, self._ids, quiet=self.quiet_transform)
        if invocation.error is not None:
            self._fail_batch(invocation, censuses)
            return
        replies = [invocation.replies[rid] for rid in invocation.record_ids]
        converted_ok = _convert_ok(replies, self._object_of)
        for record, census, reply, converted in zip(batch, censuses, replies, converted_ok, strict=True):
            if reply.result == "Dropped":
                stats.records_dropped += 1
                stats.events_dropped_control += census.control_events
                # Data events in a dropped record must come back through re-ingestion; the
                # conservation check fails if they do not.
                stats.events_handed_back += census.events - census.control_events
            elif reply.result == "ProcessingFailed":
                # Firehose only knows the result; the summary also names the decode error the
                # twin itself finds in the record, when there is one.
                self._count_failure(f"ProcessingFailed ({census.decode_error or 'transform'})")
                self._processing_failed(
                    record,
                    census,
                    "Lambda.ProcessingFailed",
                    "The record was marked as ProcessingFailed by the transform.",
                    1,
                    count=False,
                )
            else:
                assert reply.data is not None
                self._deliver(record, census, reply.data, reply.partition_keys, converted)
        for pending in self._objects.values():
            pending.detach()
        for record in batch:  # each is now in a pending object or document, or needed nothing more
            self._in_flight.pop(id(record), None)

    # --- incremental delivery, for a long-running source (``serve``)
    def open_stream(self) -> None:
        """Start incremental delivery: ``put`` records as they arrive, call ``flush_due`` on a timer
        (buffer intervals then run on the wall clock) and ``close_stream`` at the end."""
        settings = self.settings
        buffer = ProcessorBuffer(settings.processor_buffer_size_mb, settings.processor_buffer_interval_s)
        returned: deque[SourceRecord] = deque()
        stack = ExitStack()
        stack.enter_context(self._reingest_endpoint(returned))
        self._live = (buffer, returned, stack)

    def put(self, records: Iterable[SourceRecord]) -> None:
        """Add records to the open stream, invoking the transform on every batch they close.

        Raises:
            RuntimeError: ``open_stream`` was not called.
        """
        buffer, returned, _ = self._live_state()
        taken = list(self._source_records(records))
        # In flight from here: a failure part way through must not forget the records after it.
        self._in_flight.update((id(record), record) for record in taken)
        for record in taken:
            for batch in buffer.add(record):
                self.process_batch(batch)
            self._take_back(returned, buffer)

    def flush_due(self, now_ms: int) -> None:
        """Close the processor batch, and write the S3 objects and error documents, whose buffer
        interval has passed by ``now_ms``."""
        buffer, returned, _ = self._live_state()
        oldest = buffer.oldest_arrival_ms
        if oldest is not None and now_ms - oldest >= buffer.interval_ms:
            self.process_batch(buffer.flush())
            self._take_back(returned, buffer)
        interval_ms = self.settings.s3_buffer_interval_s * 1000
        for key, pending in list(self._objects.items()):
            if now_ms - pending.oldest_arrival_ms >= interval_ms:
                self._write_pending_object(key)
        for error_type, errors in list(self._errors.items()):
            if now_ms - errors.oldest_arrival_ms >= interval_ms:
                self._write_pending_errors(error_type)

    def close_stream(self) -> RunStats:
        """Process everything buffered or handed back, write every pending object, stop re-ingestion."""
        buffer, returned, stack = self._live_state()
        try:
            self._drain(buffer, returned)
        except BaseException:
            self._abandoned = (buffer, returned)
            raise
        finally:
            stack.close()
            self._live = None
        return self.stats

    def unwritten_records(self) -> list[SourceRecord]:
        """Every record whose outcome is not on disk yet: waiting in the processor buffer, handed back
        by re-ingestion, taken into a batch that did not finish, or routed into an object or error
        document not yet written. After a failure this is what must be saved to lose nothing
        (``serve`` spills it); each record once, in no particular order."""
        live = self._live
        held = (live[0], live[1]) if live is not None else self._abandoned
        found: dict[int, SourceRecord] = {}
        if held is not None:
            found.update((id(r), r) for r in held[0].held())
            found.update((id(r), r) for r in held[1])
        found.update(self._in_flight)
        for pending_object in self._objects.values():
            found.update((id(r), r) for r in pending_object.records)
        for pending_errors in self._errors.values():
            found.update((id(r), r) for r in pending_errors.records)
        return list(found.values())

    def _live_state(self) -> tuple[ProcessorBuffer, deque[SourceRecord], ExitStack]:
        live = self._live
        if live is None:
            raise RuntimeError("open_stream() was not called")
        return live

    def flush(self) -> None:
        """Write every buffered object (Parquet and error documents)."""
        for key in list(self._objects):
            self._write_pending_object(key)
        for error_type in list(self._errors):
            self._write_pending_errors(error_type)

    def _write_pending_object(self, key: tuple[tuple[str, str], ...]) -> None:
        """Write one buffered object; it leaves the buffer only once it is on disk, so a failed
        write (a full disk) keeps its rows for the next attempt instead of losing them."""
        pending = self._objects[key]
        self._write_object(pending)
        del self._objects[key]
        self._written(pending.records)

    def _write_pending_errors(self, error_type: str) -> None:
        pending = self._errors[error_type]
        self._write_errors(error_type, pending)
        del self._errors[error_type]
        self._written(pending.records)

    def _written(self, records: list[SourceRecord]) -> None:
        """Records whose outcome is on disk are no longer in flight (a batch that failed after
        routing them leaves them there until then)."""
        for record in records:
            self._in_flight.pop(id(record), None)

    def _object_of(self, partition_keys: dict[str, str] | None) -> ObjectKey:
        """Which pending S3 object a record with these partition keys goes to."""
        keys = partition_keys if self.settings.dynamic_partitioning else None
        return tuple(sorted((keys or {}).items()))

    def _deliver(
        self,
        record: SourceRecord,
        census: Census,
        data: bytes,
        partition_keys: dict[str, str] | None,
        converted: ConvertedRecord | None = None,
    ) -> None:
        if converted is None:
            converted = convert_record(data)
        self.stats.unknown_keys_dropped += converted.unknown_keys
        if converted.error is not None:
            self.stats.records_conversion_failed += 1
            self.stats.events_failed += census.events
            self._count_failure(converted.error.code)
            doc = format_conversion_failed_document(
                data,
                record.arrival_ms,
                converted.error.code,
                converted.error.message,
                self.clock_ms(),
                self.settings,
            )
            self._queue_error(FORMAT_CONVERSION_FAILED, record, doc)
            return
        keys = partition_keys if self.settings.dynamic_partitioning else None
        group = self._object_of(partition_keys)
        checked = self._keys_checked
        if self.settings.dynamic_partitioning and (checked is None or group not in checked):
            try:
                evaluate_prefix(self.settings.prefix, record.arrival_ms, partition_keys=keys, dynamic_partitioning=True)
            except PrefixError as exc:
                self._processing_failed(record, census, "DynamicPartitioning.PartitionKeyError", str(exc), 1)
                return
            if checked is not None:
                checked.add(group)
        pending = self._objects.get(group)
        if pending is None:
            pending = self._objects[group] = PendingObject(keys, record.arrival_ms)
        elif record.arrival_ms - pending.oldest_arrival_ms >= self.settings.s3_buffer_interval_s * 1000:
            self._write_pending_object(group)
            pending = self._objects[group] = PendingObject(keys, record.arrival_ms)
        pending.add(converted)
        pending.records.append(record)
        pending.bytes += len(data)
        pending.oldest_arrival_ms = min(pending.oldest_arrival_ms, record.arrival_ms)
        self.stats.records_ok += 1
        if pending.bytes >= self.settings.s3_buffer_size_mb * MIB:
            self._write_pending_object(group)

    def _fail_batch(self, invocation: Invocation, censuses: list[Census]) -> None:
        assert invocation.error is not None
        self.stats.contract_errors += 1
        for record, census in zip(invocation.records, censuses, strict=True):
            self._processing_failed(
                record, census, invocation.error.error_code, invocation.error.detail, invocation.attempts
            )

    def _processing_failed(
        self, record: SourceRecord, census: Census, code: str, message: str, attempts: int, *, count: bool = True
    ) -> None:
        self.stats.records_failed += 1
        self.stats.events_failed += census.events
        if count:
            self._count_failure(code)
        doc = processing_failed_document(
            record.data, record.arrival_ms, code, message, attempts, self.clock_ms(), self.settings
        )
        self._queue_error(PROCESSING_FAILED, record, doc)

    def _count_failure(self, code: str) -> None:
        self.stats.failure_codes[code] = self.stats.failure_codes.get(code, 0) + 1

    def _queue_error(self, error_type: str, record: SourceRecord, document: dict[str, Any]) -> None:
        pending = self._errors.setdefault(error_type, PendingErrors(record.arrival_ms))
        pending.documents.append(document)
        pending.records.append(record)
        pending.oldest_arrival_ms = min(pending.oldest_arrival_ms, record.arrival_ms)

    def _write_object(self, pending: PendingObject) -> None:
        if not pending.rows:
            return
        settings = self.settings
        prefix = evaluate_prefix(
            settings.prefix,
            pending.oldest_arrival_ms,
            partition_keys=pending.partition_keys,
            dynamic_partitioning=settings.dynamic_partitioning,
            rng=self.rng,
        )
        body = table_to_parquet(parts_to_table(pending.table_parts()))
        name = object_name(settings.stream_name, pending.oldest_arrival_ms, settings.file_extension)
        self.sink.put(prefix + name, body)
        self.stats.files_written += 1
        self.stats.rows_written += pending.rows
        self.stats.parquet_bytes += len(body)

    def _write_errors(self, error_type: str, pending: PendingErrors) -> None:
        settings = self.settings
        prefix = evaluate_prefix(
            settings.error_output_prefix,
            pending.oldest_arrival_ms,
            error_output_type=error_type,
            rng=self.rng,
        )
        name = object_name(settings.stream_name, pending.oldest_arrival_ms)
        self.sink.put(prefix + name, encode_documents(pending.documents))
        self.stats.error_files_written += 1


def _convert_ok(
    replies: list[RecordReply], object_of: Callable[[dict[str, str] | None], ObjectKey]
) -> list[ConvertedRecord | None]:
    """The ``Ok`` records' rows, by batch position: the records bound for one S3 object are taken
    by the columnar fast path at once, so their table is that object's alone (``PendingObject``
    then keeps it without a copy); None where a record is converted on its own (``convert_record``).
    """
    by_object: dict[ObjectKey, list[tuple[int, bytes]]] = {}
    for index, reply in enumerate(replies):
        if reply.result == "Ok" and reply.data is not None:
            by_object.setdefault(object_of(reply.partition_keys), []).append((index, reply.data))
    out: list[ConvertedRecord | None] = [None] * len(replies)
    for records in by_object.values():
        converted = convert_batch([data for _, data in records])
        if converted is not None:
            for (index, _), record in zip(records, converted, strict=True):
                out[index] = record
    return out


__all__ = ["LocalFirehose", "RunStats"]
