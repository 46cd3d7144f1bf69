"""Source stage, fixture writing: synthetic traffic (``fixtures generate``) and real log events read
back with ``FilterLogEvents`` (``fixtures record``) written as fixtures in the subscription wire format.

Input: a seed and a source mix, or a log group and a time range with a boto3 ``logs`` client. Output:
``*.json`` CloudWatch Logs subscription payloads (one per CloudWatch-sized batch of one stream) under a
directory, which ``run`` and ``replay`` read; ``--redact`` masks access keys, bearer tokens and emails.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stream_processor.errors import ConfigError, ProcessorError
from stream_processor.generate import TrafficGenerator, parse_mix

# What CloudWatch Logs puts in one subscription payload is undocumented (firehose-contract §11);
# batching per stream at most this many events keeps payloads like the ones observed.
EVENTS_PER_PAYLOAD: Final = 100
_DURATION: Final = re.compile(r"^(\d+)([smhd])$")
_UNITS_MS: Final = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_SECRETS: Final = (
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "AKIA****************"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"), "Bearer [REDACTED]"),
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "[REDACTED_EMAIL]"),
)


class RecordError(ProcessorError):
    """The log group cannot be read."""


@dataclass(frozen=True, slots=True)
class WrittenFixtures:
    """What was written."""

    directory: Path
    files: int
    events: int


def redact(message: str) -> str:
    """Mask AWS access key ids, bearer tokens and email addresses."""
    for pattern, mask in _SECRETS:
        message = pattern.sub(mask, message)
    return message


def write_payloads(payloads: Iterable[dict[str, Any]], out: Path, prefix: str) -> WrittenFixtures:
    """One decoded ``*.json`` payload per file, numbered in order.

    Raises:
        ProcessorError: the directory cannot be written.
    """
    files = events = 0
    try:
        out.mkdir(parents=True, exist_ok=True)
        for payload in payloads:
            files += 1
            events += len(payload["logEvents"]) if payload["messageType"] == "DATA_MESSAGE" else 0
            (out / f"{prefix}-{files:06d}.json").write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    except OSError as exc:
        raise ProcessorError(f"{out}: cannot write fixtures ({exc.strerror})") from exc
    return WrittenFixtures(out, files, events)


def generate_fixtures(
    out: Path, *, seed: int, mix: str | None, events: int | None, size_mb: float | None
) -> WrittenFixtures:
    """Deterministic synthetic traffic: ``events`` data log events or ``size_mb`` MB of gzip records.

    Raises:
        ConfigError: a bad mix or amount.
    """
    if (events is None) == (size_mb is None) or (events or size_mb or 0) <= 0:
        raise ConfigError("give exactly one of --events N or --size MB, positive")
    try:
        weights = parse_mix(mix) if mix else None
    except ValueError as exc:
        raise ConfigError(f"--mix: {exc}") from exc
    generator = TrafficGenerator(seed, weights)
    record_bytes = None if size_mb is None else int(size_mb * 1024 * 1024)
    return write_payloads(generator.payloads(events=events, record_bytes=record_bytes), out, f"generated-s{seed}")


def parse_time_range(since: str | None, start: str | None, end: str | None, now_ms: int) -> tuple[int, int]:
    """``--since 2h`` or ``--start T --end T`` (ISO 8601 or epoch ms) -> [start, end) in epoch ms.

    Raises:
        ConfigError: neither or both forms, or an unreadable time.
    """
    if (since is None) == (start is None):
        raise ConfigError("give --since DURATION or --start T [--end T]")
    if since is not None:
        match = _DURATION.match(since)
        if not match:
            raise ConfigError(f"--since {since!r}: expected a number and s, m, h or d (e.g. 30m)")
        return now_ms - int(match[1]) * _UNITS_MS[match[2]], now_ms
    assert start is not None
    first, last = _epoch_ms(start), _epoch_ms(end) if end else now_ms
    if last <= first:
        raise ConfigError("--end must be after --start")
    return first, last


def _epoch_ms(text: str) -> int:
    if text.isdigit():
        return int(text)
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{text!r}: expected ISO 8601 (2025-11-23T10:00:00Z) or epoch milliseconds") from exc
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def recorded_payloads(
    client: Any, group: str, start_ms: int, end_ms: int, *, stream_prefix: str | None, redacted: bool, owner: str
) -> Iterator[dict[str, Any]]:
    """``FilterLogEvents`` pages (throttling retried by the client) into per-stream payloads.

    Raises:
        RecordError: the group cannot be read.
    """
    params: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "endTime": end_ms - 1}
    if stream_prefix:
        params["logStreamNamePrefix"] = stream_prefix
    pending: dict[str, list[dict[str, Any]]] = {}
    try:
        for page in client.get_paginator("filter_log_events").paginate(**params):
            for raw in page.get("events", []):
                stream = raw.get("logStreamName", "")
                message = raw.get("message", "")
                event = {
                    "id": str(raw.get("eventId", "")),
                    "timestamp": raw.get("timestamp"),
                    "message": redact(message) if redacted else message,
                }
                batch = pending.setdefault(stream, [])
                batch.append(event)
                if len(batch) == EVENTS_PER_PAYLOAD:
                    yield _payload(owner, group, stream, pending.pop(stream))
    except client.exceptions.ResourceNotFoundException as exc:
        raise RecordError(f"log group {group} does not exist") from exc
    for stream, events in pending.items():
        yield _payload(owner, group, stream, events)


def _payload(owner: str, group: str, stream: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    events.sort(key=lambda e: e["timestamp"] or 0)
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["fixtures-record"],
        "logEvents": events,
    }


def record_fixtures(
    out: Path,
    *,
    group: str,
    since: str | None,
    start: str | None,
    end: str | None,
    stream_prefix: str | None = None,
    redacted: bool = False,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> WrittenFixtures:
    """Read a log group's events in a time range and write them as subscription payload fixtures.

    Raises:
        ConfigError: a bad range or AWS configuration. RecordError: the group cannot be read.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    first, last = parse_time_range(since, start, end, int(time.time() * 1000))
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        retries: Any = {"mode": "adaptive", "max_attempts": 10}
        client = session.client("logs", endpoint_url=endpoint_url, config=Config(retries=retries))
        owner = "123456789012"
    except BotoCoreError as exc:
        raise ConfigError(f"cannot make a logs client: {exc}") from exc
    safe = re.sub(r"[^A-Za-z0-9]+", "-", group).strip("-") or "group"
    payloads = recorded_payloads(
        client, group, first, last, stream_prefix=stream_prefix, redacted=redacted, owner=owner
    )
    return write_payloads(payloads, out, f"recorded-{safe}")


__all__ = [
    "RecordError",
    "WrittenFixtures",
    "generate_fixtures",
    "parse_time_range",
    "record_fixtures",
    "recorded_payloads",
    "redact",
    "write_payloads",
]
