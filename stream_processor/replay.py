"""Replay: fixture records sent to a target — the local twin, a Firehose stream, a Kinesis data stream
or a CloudWatch Logs group (whose subscription filter then carries them into the pipeline).

Input: fixture paths and ``ReplayOptions``. Output: the records put (paced, rebased, looped as asked),
a ``ReplaySummary``, progress on stderr, and a Firehose-event-shaped ``.json`` file of everything that
could not be sent, which ``replay`` and ``run`` accept again.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TextIO

from stream_processor.errors import ConfigError, SinkError
from stream_processor.generate import record_bytes_of
from stream_processor.pipeline import RunStats
from stream_processor.progress import Progress
from stream_processor.settings import DeliverySettings
from stream_processor.sinks.cloudwatch_logs import CloudWatchLogsSink, LogsEvent, plan_batches
from stream_processor.sinks.stream_api import OutgoingRecord, StreamApiSink, aggregate_records
from stream_processor.sources.fixture import SourceRecord, read_fixtures
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import DATA_MESSAGE, Payload, decode_data
from transform_lambda.errors import DecodeError
from transform_lambda.split import payload_document

# The slowest pace ``--rate`` takes (log events per second): one event in about 17 minutes.
MIN_RATE: Final = 0.001


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What ``replay`` was asked to do (the CLI flags)."""

    to: str = "local"
    rate: float | None = None
    rebase_time: bool = False
    loop: int = 1
    dry_run: bool = False
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    create: bool = False
    aggregate: bool = False
    failed_output: Path | None = None
    lake: Path = Path("lake/local")
    settings: DeliverySettings | None = None  # the twin's delivery stream for ``--to local``


@dataclass(slots=True)
class ReplaySummary:
    """What a replay sent and could not send."""

    target: str
    records_in: int = 0
    events_in: int = 0
    records_sent: int = 0
    events_sent: int = 0
    records_not_sent: int = 0
    events_not_sent: int = 0
    calls: int = 0
    retried_entries: int = 0
    elapsed_s: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    failed_file: Path | None = None
    dry_run: bool = False
    local_stats: RunStats | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for ``--json``."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["reasons"], out["failed_file"] = dict(self.reasons), str(self.failed_file) if self.failed_file else None
        out["local_stats"] = self.local_stats.as_dict() if self.local_stats else None
        return out


@dataclass(frozen=True, slots=True)
class Prepared:
    """An input record with its decoded payloads (empty when undecodable) and data-event count."""

    record: SourceRecord
    payloads: tuple[Payload, ...]
    events: int


def parse_target(to: str) -> tuple[str, str, str | None]:
    """``local`` | ``firehose:S`` | ``kinesis:S`` | ``logs:GROUP[:STREAM]`` -> (kind, name, stream).

    Log group names may contain ``/`` but never ``:``, so a fixed stream is given after ``:``.

    Raises:
        ConfigError: an unknown or incomplete target.
    """
    if to == "local":
        return "local", "", None
    kind, _, rest = to.partition(":")
    if kind in ("firehose", "kinesis") and rest:
        return kind, rest, None
    if kind == "logs" and rest:
        group, _, stream = rest.partition(":")
        if group:
            return "logs", group, stream or None
    raise ConfigError(f"--to {to!r}: expected local, firehose:STREAM, kinesis:STREAM or logs:GROUP[:STREAM]")


def prepare(records: list[SourceRecord]) -> list[Prepared]:
    """Decode every record once (undecodable records are still replayed, byte for byte)."""
    out = []
    for record in records:
        try:
            payloads = decode_data(record.data, MAX_DECOMPRESSED_BYTES)
        except DecodeError:
            payloads = ()
        events = sum(len(p.log_events) for p in payloads if p.message_type == DATA_MESSAGE)
        out.append(Prepared(record, payloads, events))
    return out


def rebased(items: list[Prepared], now_ms: int) -> list[Prepared]:
    """Shift every event timestamp so the earliest is ``now_ms``, keeping the spacing."""
    stamps = [e.timestamp for i in items for p in i.payloads for e in p.log_events if e.timestamp is not None]
    if not stamps:
        return items
    shift = now_ms - min(stamps)
    out = []
    for item in items:
        if not item.payloads:
            out.append(item)
            continue
        payloads = tuple(
            replace(
                p,
                log_events=tuple(
                    e._replace(timestamp=None if e.timestamp is None else e.timestamp + shift) for e in p.log_events
                ),
            )
            for p in item.payloads
        )
        data = b"".join(record_bytes_of(payload_document(p)) for p in payloads)
        out.append(Prepared(replace(item.record, data=data), payloads, item.events))
    return out


class _Pacer:
    """Sleeps so that log events go out at ``rate`` per second on average."""

    def __init__(self, rate: float | None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.sleep, self.started, self.events = rate, sleep, time.monotonic(), 0

    def wait(self, events: int) -> None:
        if self.rate:
            ahead = self.started + self.events / self.rate - time.monotonic()
            if ahead > 0:
                self.sleep(ahead)
        self.events += events


class _ReplayProgress(Progress):
    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        return f"{self.done:,}/{self.total:,} records, {self.events:,} events, {self.done / elapsed:,.0f} records/s"


def run_replay(paths: list[Path], options: ReplayOptions, *, err: TextIO | None = None) -> ReplaySummary:
    """Replay the fixtures under ``paths`` to ``options.to``.

    Raises:
        ConfigError: a bad target or option. FixtureError: a bad input path. LogsTargetError: a
        missing log group or stream without ``--create``.
    """
    kind, name, stream = parse_target(options.to)
    if options.loop < 1:
        raise ConfigError("--loop must be >= 1")
    if options.rate is not None and not (math.isfinite(options.rate) and options.rate >= MIN_RATE):
        raise ConfigError(f"--rate must be a number of log events per second from {MIN_RATE}")
    if options.failed_output is not None:
        check_writable(options.failed_output)  # before sending: records not sent must have a place
    if options.aggregate and kind != "kinesis":
        raise ConfigError("--aggregate applies to kinesis:STREAM only")
    items = prepare(list(read_fixtures(paths, clock_ms=lambda: int(time.time() * 1000))))
    summary = ReplaySummary(options.to, dry_run=options.dry_run)
    progress = _ReplayProgress(len(items) * options.loop, "records", stream=err or sys.stderr)
    pacer = _Pacer(options.rate)
    not_sent: list[bytes] = []
    started = time.monotonic()
    if kind == "local":
        _to_local(items, options, summary, progress, pacer.wait)
    else:
        client = None if options.dry_run else _client(kind, options)
        for _ in range(options.loop):
            batch_items = rebased(items, int(time.time() * 1000)) if options.rebase_time else items
            summary.records_in += len(batch_items)
            summary.events_in += sum(i.events for i in batch_items)
            if kind == "logs":
                not_sent += _to_logs(batch_items, client, name, stream, options, summary, progress, pacer.wait)
            else:
                not_sent += _to_stream(batch_items, client, kind, name, options, summary, progress, pacer.wait)
    progress.close()
    summary.elapsed_s = time.monotonic() - started
    if not_sent:
        summary.failed_file = write_failed(not_sent, options.failed_output)
    return summary


def _to_local(
    items: list[Prepared],
    options: ReplayOptions,
    summary: ReplaySummary,
    progress: Progress,
    wait: Callable[[int], None],
) -> None:
    """Through the twin, as ``run`` does (into a throw-away lake with ``--dry-run``)."""
    import tempfile

    from stream_processor.pipeline import LocalFirehose
    from transform_lambda.handler import lambda_handler

    def records() -> Iterator[SourceRecord]:
        for _ in range(options.loop):
            for item in rebased(items, int(time.time() * 1000)) if options.rebase_time else items:
                wait(item.events)
                summary.records_in += 1
                summary.events_in += item.events
                progress.update(done=1, events=item.events)
                yield replace(item.record, arrival_ms=int(time.time() * 1000)) if options.rate else item.record

    with tempfile.TemporaryDirectory() as scratch:
        lake = Path(scratch) if options.dry_run else options.lake
        stats = LocalFirehose(lake, options.settings or DeliverySettings(), lambda_handler).run(records())
    summary.local_stats = stats
    summary.records_sent = stats.records_in
    summary.events_sent = stats.rows_written


def _to_stream(
    items: list[Prepared],
    client: Any,
    kind: str,
    name: str,
    options: ReplayOptions,
    summary: ReplaySummary,
    progress: Progress,
    wait: Callable[[int], None],
) -> list[bytes]:
    sink = StreamApiSink(kind, name, client)
    outgoing: Iterator[OutgoingRecord] = (
        OutgoingRecord(i.record.data, i.record.partition_key or f"replay-{n % 1024}", (), i.events)
        for n, i in enumerate(items)
    )
    if options.aggregate:
        outgoing = aggregate_records(outgoing)
    max_events = max(1, int(options.rate / 4)) if options.rate else None
    not_sent: list[bytes] = []
    calls_before = sink.counts.calls
    for batch in sink.batches(outgoing, max_events):
        wait(sum(r.events for r in batch))
        failed = [] if options.dry_run else sink.put(batch)
        summary.calls += 1 if options.dry_run else 0
        lost = {id(r) for r in failed}
        for record in batch:
            if id(record) in lost:
                summary.records_not_sent += len(record.originals)
                summary.events_not_sent += record.events
                summary.reasons["too_large" if sink.size_of(record) > sink.max_record_bytes else "put_failed"] += 1
                not_sent.extend(record.originals)
            else:
                summary.records_sent += len(record.originals)
                summary.events_sent += record.events
        progress.update(done=sum(len(r.originals) for r in batch), events=sum(r.events for r in batch))
    summary.calls += sink.counts.calls - calls_before
    summary.retried_entries += sink.counts.retried_entries
    return not_sent


def _to_logs(
    items: list[Prepared],
    client: Any,
    group: str,
    fixed_stream: str | None,
    options: ReplayOptions,
    summary: ReplaySummary,
    progress: Progress,
    wait: Callable[[int], None],
) -> list[bytes]:
    sink = None if client is None else CloudWatchLogsSink(client, group, create=options.create)
    not_sent: list[bytes] = []
    for item in items:
        data = [p for p in item.payloads if p.message_type == DATA_MESSAGE]
        if not item.payloads:
            summary.records_not_sent += 1
            summary.reasons["undecodable_record"] += 1
            not_sent.append(item.record.data)
        for payload in data:
            stream = fixed_stream or payload.log_stream or "replay"
            events = [LogsEvent(e.timestamp, e.message) for e in payload.log_events]
            batches, rejected = plan_batches(stream, events, int(time.time() * 1000))
            for batch in batches:
                wait(len(batch.events))
                rejected += [] if sink is None else sink.put(batch)
                summary.calls += 1
            summary.events_sent += len(events) - len(rejected)
            summary.events_not_sent += len(rejected)
            summary.reasons.update(reason for _, reason in rejected)
            if rejected:
                back = {**payload_document(payload), "logGroup": group, "logStream": stream}
                back["logEvents"] = [{"id": "", "timestamp": e.timestamp, "message": e.message} for e, _ in rejected]
                not_sent.append(record_bytes_of(back))
        summary.records_sent += 1 if item.payloads else 0
        progress.update(done=1, events=item.events)
    return not_sent


def _client(kind: str, options: ReplayOptions) -> Any:
    """A boto3 client resolved the standard way, with the flags' profile, region and endpoint.

    Raises:
        ConfigError: an unknown profile or no region.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=options.profile, region_name=options.region)
        config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
        return session.client(kind, endpoint_url=options.endpoint_url, config=config)  # type: ignore[call-overload]
    except (BotoCoreError, ValueError) as exc:  # ValueError: an endpoint URL that is not one
        raise ConfigError(f"cannot make a {kind} client: {exc}") from exc


def check_writable(path: Path) -> None:
    """Make sure ``path`` can be written (creating its folder), without leaving a file behind.

    Raises:
        ConfigError: it is a directory, or it cannot be created or written.
    """
    if path.is_dir():
        raise ConfigError(f"--failed-output {path} is a directory; give a file name")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        raise ConfigError(f"--failed-output {path} cannot be written: {exc.strerror or exc}") from exc


def write_failed(datas: list[bytes], path: Path | None) -> Path:
    """Write records as a Firehose transformation event (``replay``/``run`` read it back).

    Raises:
        SinkError: the file cannot be written (the message says how many records that leaves unsaved).
    """
    now = int(time.time() * 1000)
    target = path or Path(f"replay-not-sent-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now // 1000))}.json")
    doc = {
        "invocationId": "replay-not-sent",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/replay-not-sent",
        "region": "us-east-1",
        "records": [
            {"recordId": f"r{n:06d}", "approximateArrivalTimestamp": now, "data": base64.b64encode(d).decode()}
            for n, d in enumerate(datas)
        ],
    }
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc, indent=1) + "\n")
    except OSError as exc:
        raise SinkError(
            f"{len(datas):,} records were not sent and cannot be saved to {target}: {exc.strerror or exc}"
        ) from exc
    return target


def format_replay_summary(summary: ReplaySummary) -> str:
    """The end-of-run summary a person reads."""
    rate = summary.records_sent / summary.elapsed_s if summary.elapsed_s else 0.0
    lines = [
        f"target:          {summary.target}" + ("   (dry run: nothing sent)" if summary.dry_run else ""),
        f"records in:      {summary.records_in:>10,}   log events in: {summary.events_in:,}",
        f"records sent:    {summary.records_sent:>10,}   log events sent: {summary.events_sent:,}",
        f"NOT sent:        {summary.records_not_sent:>10,}   log events not sent: {summary.events_not_sent:,}",
        f"API calls:       {summary.calls:>10,}   entries retried: {summary.retried_entries:,}",
        f"elapsed:         {summary.elapsed_s:>10.2f} s   ({rate:,.0f} records/s)",
    ]
    lines += [f"  not sent ({reason}): {n:,}" for reason, n in sorted(summary.reasons.items())]
    if summary.failed_file is not None:
        lines.append(f"not-sent records written to {summary.failed_file} (replay it again with the same command)")
    return "\n".join(lines)


__all__ = [
    "Prepared",
    "ReplayOptions",
    "ReplaySummary",
    "format_replay_summary",
    "parse_target",
    "prepare",
    "rebased",
    "run_replay",
    "write_failed",
]
