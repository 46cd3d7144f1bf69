"""The per-record loop: the one place where errors become results.

Input: ``Record`` items (a Firehose batch), the config and a re-ingester. Output: one ``RecordOutcome``
per distinct recordId, in input order, within the response budget.
decode -> (detect, parse, shape) -> encode -> fit the response budget (split, re-ingest); in the
compiled build, the C (``native_rows``) writes the usual rows of a payload from detect to NDJSON.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Final, cast

from transform_lambda import accel
from transform_lambda.config import TransformConfig
from transform_lambda.decode import CONTROL_MESSAGE, LogEvent, decode_record
from transform_lambda.detect import detect_source
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.errors import RecordError
from transform_lambda.native_rows import payload_ndjson
from transform_lambda.reingest import Reingester, ReingestItem
from transform_lambda.split import split_record
from transform_lambda.timefmt import MAX_EPOCH_MS, MIN_EPOCH_MS, date_hour_from_epoch_ms, iso_from_epoch_ms
from transform_lambda.transform import shape_events

logger = logging.getLogger(__name__)

# Bytes of `{"records": [` and `]}` around the entries, and of the ", " between two entries, in the
# widest spelling a runtime may use (json.dumps defaults), so the estimate is an upper bound.
_RESPONSE_FRAME: Final = len('{"records": []}')
_ENTRY_SEPARATOR: Final = len(", ")
# The parts of ``json.dumps(entry)`` around its strings: '{"recordId": ' ', "result": ' '}', then
# ', "data": ""', ', "metadata": {"partitionKeys": {' '}}', and ': ' between a key and its value.
_ENTRY_FIXED: Final = len('{"recordId": , "result": }')
_DATA_FIXED: Final = len(', "data": ""')
_METADATA_FIXED: Final = len(', "metadata": {"partitionKeys": {}}')
_MEMBER_FIXED: Final = len(": ")
# Record ids come from the event; logs never carry more of one than this (Firehose's are 56 digits).
_LOGGED_ID_CHARS: Final = 128
_TIMESTAMP: Final = attrgetter("timestamp")


class Result(StrEnum):
    """A record's result, spelled exactly as Firehose expects (case-sensitive)."""

    OK = "Ok"
    DROPPED = "Dropped"
    FAILED = "ProcessingFailed"


@dataclass(frozen=True, slots=True)
class Record:
    """One Firehose input record; ``data`` is whatever the event carried (validated by decode)."""

    record_id: str
    data: object
    arrival_ms: int | None = None
    partition_key: str | None = None  # kinesisRecordMetadata.partitionKey, for a Kinesis source


@dataclass(slots=True)
class RecordOutcome:
    """What became of one record."""

    record_id: str
    result: Result
    data: str | None = None
    partition_keys: dict[str, str] | None = None
    error_stage: str | None = None
    error_code: str | None = None
    log_events: int = 0
    rows: int = 0
    parse_errors: int = 0
    sources: tuple[str, ...] = ()
    reingested_events: int = 0
    reingested_payloads: int = 0
    split: bool = False

    def to_wire(self) -> dict[str, object]:
        """The response entry Firehose reads (``data`` omitted for Dropped/ProcessingFailed)."""
        entry: dict[str, object] = {"recordId": self.record_id, "result": self.result.value}
        if self.data is not None:
            entry["data"] = self.data
        if self.partition_keys is not None:
            entry["metadata"] = {"partitionKeys": self.partition_keys}
        return entry


@dataclass(slots=True)
class BatchOutcome:
    """All outcomes of a batch plus the totals the handler reports."""

    outcomes: list[RecordOutcome]
    response_bytes: int
    failures: Counter[str] = field(default_factory=Counter)


def run_batch(
    records: Sequence[Record], config: TransformConfig, now_ms: int, reingester: Reingester | None = None
) -> BatchOutcome:
    """Transform every record; each distinct recordId gets exactly one outcome, in input order.

    The response stays within ``config.response_budget_bytes``: a record whose own rows are too big
    is split and re-ingested, and once the running total would pass the budget the remaining records
    are re-ingested unchanged (both marked ``Dropped``). What cannot be re-ingested is returned as
    ``ProcessingFailed`` so Firehose keeps it. ``now_ms`` stands in for a missing arrival time.
    """
    counts = Counter(r.record_id for r in records)
    unique: list[Record] = []
    seen: set[str] = set()
    for record in records:
        if record.record_id not in seen:
            seen.add(record.record_id)
            unique.append(record)
    outcomes = [
        _failed(r.record_id, RecordError("duplicate_record_id"))
        if counts[r.record_id] > 1
        else transform_record(r, config, now_ms)
        for r in unique
    ]
    items, sizes = _fit_budget(unique, outcomes, config)
    if items:
        lost = reingester.put(items) if reingester is not None else {item.owner for item in items}
        for owner in lost:
            failed = _failed(unique[owner].record_id, RecordError("reingest_failed"), stage="respond")
            failed.log_events = outcomes[owner].log_events
            outcomes[owner] = failed
            sizes[owner] = _entry_size(failed)
    failures: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.result is Result.FAILED:
            failures[f"{outcome.error_stage}:{outcome.error_code}"] += 1
            logger.warning(
                "Record failed.",
                extra={
                    "record_id": outcome.record_id[:_LOGGED_ID_CHARS],
                    "stage": outcome.error_stage,
                    "code": outcome.error_code,
                },
            )
    size = _RESPONSE_FRAME + sum(sizes) + _ENTRY_SEPARATOR * max(0, len(outcomes) - 1)
    return BatchOutcome(outcomes, size, failures)


def _fit_budget(
    records: list[Record], outcomes: list[RecordOutcome], config: TransformConfig
) -> tuple[list[ReingestItem], list[int]]:
    """Mark records that do not fit the response for re-ingestion; returns what to re-ingest and the
    size of each outcome's entry (``_entry_size``, counted once per outcome)."""
    budget = config.response_budget_bytes
    # One entry must leave room for the frame; a split chunk aims at a quarter of the budget so
    # that it fits comfortably beside others when it comes back.
    alone_limit = budget - _RESPONSE_FRAME
    # Every later record needs at least a small Dropped/ProcessingFailed entry: keep room for them.
    smallest = [_smallest_entry(o.record_id) + _ENTRY_SEPARATOR for o in outcomes]
    reserve = sum(smallest)
    sizes = [_entry_size(o) for o in outcomes]
    items: list[ReingestItem] = []
    used = _RESPONSE_FRAME
    overflowing = False
    for index, (record, outcome) in enumerate(zip(records, outcomes, strict=True)):
        reserve -= smallest[index]
        size = sizes[index] + (_ENTRY_SEPARATOR if index else 0)
        replaced: RecordOutcome | None = None
        if outcome.result is Result.OK and size > alone_limit:
            replaced = _split(index, record, outcome, config, items, alone_limit)
        elif (
            outcome.result is Result.OK and size > alone_limit // 4 and (overflowing or used + size + reserve > budget)
        ):
            # A big record put back whole could land behind newer records again and again; cut it
            # into chunks that fit beside others when they come back.
            overflowing = True
            replaced = _split(index, record, outcome, config, items, alone_limit)
        elif outcome.result is Result.OK and (overflowing or used + size + reserve > budget):
            overflowing = True
            items.append(ReingestItem(index, _raw(record), record.partition_key))
            replaced = RecordOutcome(
                record.record_id,
                Result.DROPPED,
                log_events=outcome.log_events,
                reingested_events=outcome.log_events,
                reingested_payloads=1,
            )
        if replaced is not None:
            outcomes[index] = replaced
            sizes[index] = _entry_size(replaced)
        used += sizes[index] + (_ENTRY_SEPARATOR if index else 0)
    return items, sizes


def _smallest_entry(record_id: str) -> int:
    """The size of the entry a record needs at the least (ProcessingFailed is the longest result)."""
    return _ENTRY_FIXED + _json_len(record_id) + _json_len(Result.FAILED.value)


def _split(
    index: int,
    record: Record,
    outcome: RecordOutcome,
    config: TransformConfig,
    items: list[ReingestItem],
    alone_limit: int,
) -> RecordOutcome:
    entry_overhead = _entry_size(outcome) - len(outcome.data or "")
    try:
        chunks, events = split_record(
            _raw(record), config, alone_limit // 4, alone_limit - entry_overhead, arrival_time=_arrival_time(record)
        )
    except RecordError as exc:
        failed = _failed(record.record_id, exc, stage="respond")
        failed.log_events = outcome.log_events
        return failed
    items.extend(ReingestItem(index, chunk, record.partition_key) for chunk in chunks)
    return RecordOutcome(
        record.record_id,
        Result.DROPPED,
        log_events=outcome.log_events,
        reingested_events=events,
        reingested_payloads=len(chunks),
        split=True,
    )


def _arrival_time(record: Record) -> str | None:
    """The ``arrival_time`` a record's rows carry (None when it has none a row can spell)."""
    return iso_from_epoch_ms(record.arrival_ms) if record.arrival_ms is not None else None


def _raw(record: Record) -> bytes:
    assert isinstance(record.data, str)  # only decodable records reach the budget step
    return accel.b64decode(record.data)  # which decode read the same way, so it reads again


def transform_record(record: Record, config: TransformConfig, now_ms: int) -> RecordOutcome:
    """Decode and transform one record; bad data becomes a ``ProcessingFailed`` outcome."""
    try:
        payloads = decode_record(record.data, config.max_decompressed_bytes)
        arrival = _arrival_time(record)
        ndjson: list[bytes] = []
        events = rows = parse_errors = 0
        sources: list[str] = []
        first_ts: int | None = None
        for payload in payloads:
            events += len(payload.log_events)
            if payload.message_type == CONTROL_MESSAGE:
                continue
            source, parser = detect_source(payload, config)
            # Each payload's rows are encoded on their own: NDJSON joins by concatenation.
            native = payload_ndjson(payload, source, parser, arrival)
            if native is not None:
                written, errors = native
                rows += len(payload.log_events)
                parse_errors += errors
            else:
                shaped = shape_events(payload, source, parser, arrival)
                written = encode_shaped_rows(shaped.rows)
                rows += len(shaped.rows)
                parse_errors += shaped.parse_errors
            ndjson.append(written)
            sources.append(source)
            earliest = _earliest_ms(payload.log_events)
            if earliest is not None and (first_ts is None or earliest < first_ts):
                first_ts = earliest
        if not sources:
            return RecordOutcome(record.record_id, Result.DROPPED, log_events=events)
        data = accel.b64encode(ndjson[0] if len(ndjson) == 1 else b"".join(ndjson))
        partition_ms = first_ts if first_ts is not None else _fallback_ms(record.arrival_ms, now_ms)
        dt, hour = date_hour_from_epoch_ms(partition_ms)
        keys = {"src": sources[0], "dt": dt, "hour": hour}
        return RecordOutcome(
            record.record_id,
            Result.OK,
            data,
            keys,
            log_events=events,
            rows=rows,
            parse_errors=parse_errors,
            sources=tuple(sources),
        )
    except RecordError as exc:
        return _failed(record.record_id, exc)
    except Exception as exc:  # the one catch-all: a bug fails this record, not the batch
        logger.exception(
            "Unexpected error transforming a record.", extra={"record_id": record.record_id[:_LOGGED_ID_CHARS]}
        )
        return _failed(record.record_id, RecordError("unexpected", type(exc).__name__))


def _earliest_ms(events: Sequence[LogEvent]) -> int | None:
    """The earliest timestamp a row can spell, or None; two C passes when all are in range."""
    try:
        low, high = min(map(_TIMESTAMP, events), default=None), max(map(_TIMESTAMP, events), default=None)
    except TypeError:  # a missing timestamp (None)
        low = high = None
    if low is not None and high is not None and low >= MIN_EPOCH_MS and high <= MAX_EPOCH_MS:
        return cast(int, low)
    in_range = [e.timestamp for e in events if e.timestamp is not None and MIN_EPOCH_MS <= e.timestamp <= MAX_EPOCH_MS]
    return min(in_range, default=None)


def _fallback_ms(arrival_ms: int | None, now_ms: int) -> int:
    if arrival_ms is not None and iso_from_epoch_ms(arrival_ms) is not None:
        return arrival_ms
    return now_ms


def _failed(record_id: str, error: RecordError, stage: str | None = None) -> RecordOutcome:
    return RecordOutcome(record_id, Result.FAILED, error_stage=stage or error.stage, error_code=error.code)


def _entry_size(outcome: RecordOutcome) -> int:
    """Bytes of ``json.dumps(outcome.to_wire())``, the widest spelling a runtime may use, counted
    rather than written (a record's entry is sized several times); ``data`` is base64, no escaping."""
    size = _ENTRY_FIXED + _json_len(outcome.record_id) + _json_len(outcome.result.value)
    if outcome.data is not None:
        size += _DATA_FIXED + len(outcome.data)
    keys = outcome.partition_keys
    if keys is not None:
        size += _METADATA_FIXED + _MEMBER_FIXED * len(keys) + _ENTRY_SEPARATOR * max(0, len(keys) - 1)
        for key, value in keys.items():
            size += _json_len(key) + _json_len(value)
    return size


def _json_len(text: str) -> int:
    """``len(json.dumps(text))``: ids, results and partition values rarely need escaping."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text) + 2
    return len(json.dumps(text))


__all__ = ["BatchOutcome", "Record", "RecordOutcome", "Result", "run_batch", "transform_record"]
