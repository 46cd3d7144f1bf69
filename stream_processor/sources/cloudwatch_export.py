"""Source stage, CloudWatch Logs exports: ``CreateExportTask`` output into log events per log stream.

Input: an ``ObjectStore`` at the export's destination prefix, laid out as CloudWatch Logs writes it:
``<prefix>/aws-logs-write-test`` (the permission probe) and ``<prefix>/<task id>/<log stream>/000000.gz``,
``000001.gz``… (gzip text, one ``<ISO-8601 time> <message>`` per event; a line that does not start
with a timestamp continues the previous message). Output: ``ExportStream`` units (one per task and
log stream) and their ``LogEvent`` items with deterministic, derived event ids (exports carry none).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from stream_processor.errors import ConfigError, FixtureError
from stream_processor.sinks.object_store import ObjectStore
from transform_lambda.decode import LogEvent

WRITE_TEST_OBJECT: Final = "aws-logs-write-test"
# Export task ids are UUIDs; a log stream name may contain "/", so the stream is everything between
# the task id and the chunk name.
_TASK_ID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CHUNK: Final = re.compile(r"\d{6}\.gz")
_LINE_TIME: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z(?: |$)")
# Derived ids start with this tag so a backfilled row is recognizable; CloudWatch's own ids are digits.
DERIVED_ID_PREFIX: Final = "bf1-"


@dataclass(frozen=True, slots=True)
class ExportStream:
    """One log stream of one export task: its chunk objects in order."""

    task_id: str
    log_group: str
    log_stream: str
    keys: tuple[str, ...]
    size: int

    @property
    def unit_id(self) -> str:
        """The stable name of this unit of work in the backfill state."""
        return f"export:{self.log_group}:{self.task_id}/{self.log_stream}"


@dataclass(slots=True)
class ExportReadStats:
    """What reading an export found besides events."""

    orphan_lines: int = 0  # continuation lines before any timestamped line: no message to attach to


def find_export_streams(store: ObjectStore, log_group: str | None) -> list[ExportStream]:
    """Every (task, log stream) under the store's location, sorted.

    The log group is ``log_group`` when given, else the path segment right before the task id,
    percent-decoded (export with ``destinationPrefix`` ``…/%2Faws%2Flambda%2Fname``).

    Raises:
        ConfigError: no export objects, or a task whose log group cannot be recovered.
    """
    streams: dict[tuple[str, str, str], tuple[list[str], int]] = {}
    for obj in store.list(""):
        parts = obj.key.split("/")
        if parts[-1] == WRITE_TEST_OBJECT or not _CHUNK.fullmatch(parts[-1]):
            continue
        task_at = next((i for i, p in enumerate(parts[:-2]) if _TASK_ID.fullmatch(p)), None)
        if task_at is None:
            continue
        task_id, log_stream = parts[task_at], "/".join(parts[task_at + 1 : -1])
        group = log_group or (urllib.parse.unquote(parts[task_at - 1]) if task_at else "")
        if not group:
            raise ConfigError(f"{store.location}: cannot tell the log group of export task {task_id}; pass --log-group")
        keys, size = streams.setdefault((group, task_id, log_stream), ([], 0))
        keys.append(obj.key)
        streams[(group, task_id, log_stream)] = (keys, size + obj.size)
    if not streams:
        raise ConfigError(f"{store.location}: no CloudWatch Logs export objects (<task id>/<stream>/000000.gz)")
    return [
        ExportStream(task, group, stream, tuple(sorted(keys)), size)
        for (group, task, stream), (keys, size) in sorted(streams.items())
    ]


def read_export_events(store: ObjectStore, stream: ExportStream, stats: ExportReadStats) -> Iterator[LogEvent]:
    """The log events of one exported stream, in file order, with derived ids."""
    occurrences: dict[bytes, int] = {}
    pending: tuple[int, list[str]] | None = None
    for key in stream.keys:
        with store.open_read(key) as raw, gzip.GzipFile(fileobj=raw) as unzipped:
            text = io.TextIOWrapper(unzipped, encoding="utf-8", errors="replace", newline="\n")
            for line in _lines(text, key):
                line = line[:-1] if line.endswith("\n") else line
                match = _LINE_TIME.match(line)
                at = _epoch_ms(match) if match is not None else None
                if match is None or at is None:
                    if pending is None:
                        stats.orphan_lines += 1
                    else:
                        pending[1].append(line)
                    continue
                if pending is not None:
                    yield _event(stream, pending[0], "\n".join(pending[1]), occurrences)
                pending = (at, [line[match.end() :]])
    if pending is not None:
        yield _event(stream, pending[0], "\n".join(pending[1]), occurrences)


def _lines(text: io.TextIOWrapper, key: str) -> Iterator[str]:
    """The lines of one export object.

    Raises:
        FixtureError: the object is not whole gzip (cut short, not gzip, or garbage after it); the
            backfill stops there, its unit is not recorded as done, and a rerun starts it again.
    """
    try:
        yield from text
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FixtureError(f"{key}: not a whole gzip file ({exc})") from exc


def derive_event_id(log_group: str, log_stream: str, timestamp: int, message: str, occurrence: int) -> str:
    """A stable id for an exported event: the same export always gives the same ids."""
    text = f"{log_group}\x1f{log_stream}\x1f{timestamp}\x1f{message}\x1f{occurrence}"
    return DERIVED_ID_PREFIX + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _event(stream: ExportStream, timestamp: int, message: str, occurrences: dict[bytes, int]) -> LogEvent:
    # Identical (time, message) pairs are told apart by their order of occurrence in the stream.
    key = hashlib.blake2b(f"{timestamp}\x1f{message}".encode("utf-8", "surrogatepass"), digest_size=12).digest()
    n = occurrences.get(key, 0)
    occurrences[key] = n + 1
    return LogEvent(derive_event_id(stream.log_group, stream.log_stream, timestamp, message, n), timestamp, message)


def _epoch_ms(match: re.Match[str]) -> int | None:
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        at = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None  # not a date after all: the line continues the previous message
    millis = int((match.group(7) or "0").ljust(3, "0")[:3])
    return int(at.timestamp()) * 1000 + millis


__all__ = [
    "DERIVED_ID_PREFIX",
    "WRITE_TEST_OBJECT",
    "ExportReadStats",
    "ExportStream",
    "derive_event_id",
    "find_export_streams",
    "read_export_events",
]
