"""Sink stage, CloudWatch Logs API: log events into a log group with ``PutLogEvents``, within its
limits, so a subscription filter carries them into the pipeline (``replay --to logs:``).

Input: (log stream, [(timestamp ms, message)]) groups and a boto3 ``logs`` client. Output: calls of
at most 10,000 events and 1,048,576 bytes (UTF-8 message + 26 bytes per event), in chronological
order, spanning at most 24 hours; events too old, too far in the future, too large or empty are not
sent and come back as rejected with a reason (firehose-contract §9.7).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from stream_processor.errors import ProcessorError

# PutLogEvents limits (firehose-contract §9.7).
MAX_BATCH_BYTES: Final = 1_048_576
EVENT_OVERHEAD_BYTES: Final = 26
MAX_BATCH_EVENTS: Final = 10_000
MAX_BATCH_SPAN_MS: Final = 24 * 3_600_000
MAX_EVENT_BYTES: Final = 256 * 1024
MAX_AGE_MS: Final = 14 * 24 * 3_600_000
MAX_FUTURE_MS: Final = 2 * 3_600_000


class LogsTargetError(ProcessorError):
    """The log group or stream does not exist (and ``--create`` was not given), or cannot be created."""


@dataclass(frozen=True, slots=True)
class LogsEvent:
    """One log event to put."""

    timestamp: int | None
    message: str


@dataclass(slots=True)
class LogsBatch:
    """One ``PutLogEvents`` call's events (chronological)."""

    stream: str
    events: list[LogsEvent] = field(default_factory=list)


def rejection_reason(event: LogsEvent, now_ms: int) -> str | None:
    """Why CloudWatch Logs would refuse the event, or None."""
    if event.timestamp is None:
        return "no_timestamp"
    if not event.message:
        return "empty_message"
    if len(event.message.encode()) + EVENT_OVERHEAD_BYTES > MAX_EVENT_BYTES:
        return "too_large"
    if event.timestamp < now_ms - MAX_AGE_MS:
        return "too_old"
    if event.timestamp > now_ms + MAX_FUTURE_MS:
        return "too_new"
    return None


def plan_batches(
    stream: str, events: Sequence[LogsEvent], now_ms: int
) -> tuple[list[LogsBatch], list[tuple[LogsEvent, str]]]:
    """Split one stream's events into valid calls; returns the calls and the rejected events."""
    rejected: list[tuple[LogsEvent, str]] = []
    sendable: list[LogsEvent] = []
    for event in events:
        reason = rejection_reason(event, now_ms)
        if reason is None:
            sendable.append(event)
        else:
            rejected.append((event, reason))
    sendable.sort(key=lambda e: e.timestamp or 0)  # stable: same-millisecond events keep their order
    batches: list[LogsBatch] = []
    batch, size = LogsBatch(stream), 0
    for event in sendable:
        item = len(event.message.encode()) + EVENT_OVERHEAD_BYTES
        first = batch.events[0].timestamp if batch.events else None
        span = first is not None and (event.timestamp or 0) - first > MAX_BATCH_SPAN_MS
        if batch.events and (len(batch.events) == MAX_BATCH_EVENTS or size + item > MAX_BATCH_BYTES or span):
            batches.append(batch)
            batch, size = LogsBatch(stream), 0
        batch.events.append(event)
        size += item
    if batch.events:
        batches.append(batch)
    return batches, rejected


class CloudWatchLogsSink:
    """Puts batches into one log group, creating the group and its streams when asked."""

    def __init__(self, client: Any, group: str, *, create: bool) -> None:
        self.client = client
        self.group = group
        self.create = create
        self.calls = 0
        self._streams: set[str] = set()
        self._group_ready = False

    def put(self, batch: LogsBatch) -> list[tuple[LogsEvent, str]]:
        """Put one batch; returns the events the service rejected (with a reason).

        Raises:
            LogsTargetError: the group or stream is missing and may not be created.
        """
        self._ensure(batch.stream)
        self.calls += 1
        try:
            response = self.client.put_log_events(
                logGroupName=self.group,
                logStreamName=batch.stream,
                logEvents=[{"timestamp": e.timestamp, "message": e.message} for e in batch.events],
            )
        except self.client.exceptions.ResourceNotFoundException as exc:
            raise LogsTargetError(
                f"log group {self.group} or stream {batch.stream} does not exist (pass --create)"
            ) from exc
        except Exception as exc:  # botocore retried throttling already; the whole call failed
            return [(e, f"call_failed:{type(exc).__name__}") for e in batch.events]
        return list(_rejected(batch.events, response.get("rejectedLogEventsInfo") or {}))

    def _ensure(self, stream: str) -> None:
        if not self.create:
            return
        errors = self.client.exceptions
        if not self._group_ready:
            with contextlib.suppress(errors.ResourceAlreadyExistsException):
                self.client.create_log_group(logGroupName=self.group)
            self._group_ready = True
        if stream not in self._streams:
            with contextlib.suppress(errors.ResourceAlreadyExistsException):
                self.client.create_log_stream(logGroupName=self.group, logStreamName=stream)
            self._streams.add(stream)


def _rejected(events: list[LogsEvent], info: dict[str, int]) -> Iterator[tuple[LogsEvent, str]]:
    too_new = info.get("tooNewLogEventStartIndex")
    too_old = info.get("tooOldLogEventEndIndex")
    expired = info.get("expiredLogEventEndIndex")
    for n, event in enumerate(events):
        if too_new is not None and n >= too_new:
            yield event, "too_new"
        elif expired is not None and n <= expired:
            yield event, "expired"
        elif too_old is not None and n <= too_old:
            yield event, "too_old"


__all__ = [
    "CloudWatchLogsSink",
    "LogsBatch",
    "LogsEvent",
    "LogsTargetError",
    "plan_batches",
    "rejection_reason",
]
