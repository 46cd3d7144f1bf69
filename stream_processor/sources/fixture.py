"""Source stage, fixture files: recorded inputs into records as a producer would have sent them.

Input: paths (files or directories). Output: ``SourceRecord`` items, in a stable order. Kinds:
- ``*.json``: a Firehose transformation event (``records[].data`` base64) — its records are taken
  as they are, arrival times included; or a CloudWatch Logs subscription payload (``messageType``),
  gzip-compressed here the way CloudWatch Logs sends it;
- ``*.gz``: a gzip-compressed subscription payload, byte for byte;
- ``*.b64``: base64 of a record's data (a payload as it appears in a Kinesis or Lambda event).
Directories are walked recursively; files of other kinds in them (README, golden rows) are skipped.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stream_processor.errors import FixtureError
from transform_lambda import accel

FIXTURE_SUFFIXES: Final = (".json", ".gz", ".b64")
# Directories of golden outputs and docs are not inputs.
_SKIPPED_DIRS: Final = frozenset({"expected"})


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as the producer sent it: raw bytes (gzip for CloudWatch Logs) and arrival time."""

    data: bytes
    arrival_ms: int
    origin: str
    partition_key: str | None = None  # for a Kinesis Data Streams source


def fixture_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their fixture files (sorted); explicit files must be fixtures.

    Raises:
        FixtureError: a path does not exist or a named file is of an unknown kind.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                rel_parts = candidate.relative_to(path).parts
                if candidate.is_file() and _is_fixture(candidate) and not _SKIPPED_DIRS.intersection(rel_parts):
                    found.append(candidate)
        elif path.is_file():
            if not _is_fixture(path):
                raise FixtureError(f"{path}: not a fixture (expected one of {', '.join(FIXTURE_SUFFIXES)})")
            found.append(path)
        else:
            raise FixtureError(f"{path}: no such file or directory")
    return found


def read_fixtures(paths: Iterable[Path], clock_ms: Callable[[], int]) -> Iterator[SourceRecord]:
    """Yield the records of every fixture file under ``paths``.

    Raises:
        FixtureError: a file cannot be read or is not a fixture of a known kind.
    """
    for path in fixture_paths(paths):
        yield from read_fixture(path, clock_ms)


def read_fixture(path: Path, clock_ms: Callable[[], int]) -> Iterator[SourceRecord]:
    """Yield the records of one fixture file.

    Raises:
        FixtureError: unreadable, or not a fixture of a known kind.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read ({exc.strerror})") from exc
    name = str(path)
    if path.suffix == ".gz":
        yield SourceRecord(raw, clock_ms(), name)
    elif path.suffix == ".b64":
        try:
            data = base64.b64decode(b"".join(raw.split()), validate=True)
        except binascii.Error as exc:
            raise FixtureError(f"{path}: not base64") from exc
        yield SourceRecord(data, clock_ms(), name)
    else:
        yield from _json_fixture(path, raw, clock_ms)


def _json_fixture(path: Path, raw: bytes, clock_ms: Callable[[], int]) -> Iterator[SourceRecord]:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FixtureError(f"{path}: not valid JSON") from exc
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        yield from _firehose_event_records(path, doc["records"], clock_ms)
    elif isinstance(doc, dict) and "messageType" in doc:
        # CloudWatch Logs gzips each subscription payload (level 6) before delivery.
        yield SourceRecord(gzip.compress(raw, compresslevel=6, mtime=0), clock_ms(), str(path))
    else:
        raise FixtureError(f"{path}: neither a Firehose event nor a CloudWatch Logs payload")


def _firehose_event_records(path: Path, records: list[object], clock_ms: Callable[[], int]) -> Iterator[SourceRecord]:
    for n, record in enumerate(records):
        where = f"{path}#records[{n}]"
        if not isinstance(record, dict) or not isinstance(record.get("data"), str):
            raise FixtureError(f"{where}: a record needs a string 'data'")
        arrival = record.get("approximateArrivalTimestamp")
        arrival_ms = arrival if isinstance(arrival, int) and not isinstance(arrival, bool) else clock_ms()
        yield SourceRecord(record_data(record["data"]), arrival_ms, where)


def record_data(text: str) -> bytes:
    """A Firehose event record's ``data``: ``base64.b64decode(text, validate=True)``, or, since
    corrupt records are part of what fixtures test, the text's own bytes when that refuses it. The
    transform's decoder (pybase64 or binascii's strict mode) reads first: what it reads, it reads as
    ``b64decode`` does (tests/twin/test_fixture_source.py), and faster."""
    try:
        return accel.b64decode(text)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


def _is_fixture(path: Path) -> bool:
    return path.suffix in FIXTURE_SUFFIXES


__all__ = ["FIXTURE_SUFFIXES", "SourceRecord", "fixture_paths", "read_fixture", "read_fixtures", "record_data"]
