"""Redrive: records Firehose could not deliver, read back from its error output and sent through
the current transform again.

Input: ``processing-failed`` and ``format-conversion-failed`` documents (one JSON document per line)
under a local directory or an S3 prefix. Output: records for the local twin or a Firehose stream,
a report per error code, and a manifest next to the documents naming what was redriven, so a second
run does not send it twice. ``processing-failed`` holds the original record in ``rawData``;
``format-conversion-failed`` holds the transform's rows, from which the CloudWatch Logs payloads are
rebuilt (event id, time, message, group, stream, account).
"""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from stream_processor.errors import ConfigError, ProcessorError
from stream_processor.generate import record_bytes_of
from stream_processor.pipeline import LocalFirehose, RunStats
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from transform_lambda.reingest import ReingestItem, StreamReingester, StreamTarget

MANIFEST_DIR: Final = ".redrive"
_ERROR_KEYS: Final = ("errorCode", "ErrorCode", "lastErrorCode")


class RedriveError(ProcessorError):
    """The error output cannot be read or the target cannot be written."""


@dataclass(frozen=True, slots=True)
class FailedDocument:
    """One error document: where it is, what kind, its code, and its record(s) ready to resend."""

    object_key: str
    line: int
    error_type: str
    error_code: str
    records: tuple[SourceRecord, ...]
    problem: str | None = None  # why it cannot be redriven, when it cannot


@dataclass(slots=True)
class RedriveReport:
    """What a redrive run found and did."""

    documents: int = 0
    already_redriven: int = 0
    redriven: int = 0
    unrecoverable: int = 0
    not_sent: int = 0
    records_sent: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)


class ErrorStore(Protocol):
    """Where error documents live: a local directory or an S3 prefix."""

    def objects(self) -> Iterator[tuple[str, bytes]]: ...

    def manifest(self) -> set[tuple[str, int]]: ...

    def record(self, done: list[tuple[str, int]]) -> None: ...


class LocalErrorStore:
    """Error objects under a directory; the manifest is ``<dir>/.redrive/manifest.jsonl``."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ConfigError(f"{root}: no such directory of error output")
        self.root = root
        self._manifest = root / MANIFEST_DIR / "manifest.jsonl"

    def objects(self) -> Iterator[tuple[str, bytes]]:
        """Every error object (hidden files and Parquet files are not error objects)."""
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root)
            if path.is_file() and not any(p.startswith(".") for p in rel.parts) and path.suffix != ".parquet":
                yield rel.as_posix(), path.read_bytes()

    def manifest(self) -> set[tuple[str, int]]:
        """Documents redriven by earlier runs."""
        if not self._manifest.exists():
            return set()
        entries = (json.loads(line) for line in self._manifest.read_text().splitlines() if line.strip())
        return {(e["object"], e["line"]) for e in entries}

    def record(self, done: list[tuple[str, int]]) -> None:
        """Append documents to the manifest (flushed and synced before returning)."""
        self._manifest.parent.mkdir(parents=True, exist_ok=True)
        with open(self._manifest, "a") as handle:
            for key, line in done:
                handle.write(json.dumps({"object": key, "line": line, "at": int(time.time())}) + "\n")
            handle.flush()


class S3ErrorStore:
    """Error objects under ``s3://bucket/prefix``; each run adds a manifest object under ``.redrive/``."""

    def __init__(self, url: str, client: Any) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ConfigError(f"{url}: expected s3://bucket/prefix")
        self.bucket, self.prefix, self.client = bucket, prefix, client

    def _keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"]
        except Exception as exc:  # botocore's ClientError and connection errors
            raise RedriveError(f"cannot list s3://{self.bucket}/{prefix}: {exc}") from exc

    def objects(self) -> Iterator[tuple[str, bytes]]:
        """Every error object under the prefix."""
        for key in self._keys(self.prefix):
            rel = key[len(self.prefix) :].lstrip("/")
            if any(p.startswith(".") for p in rel.split("/")) or key.endswith(".parquet"):
                continue
            yield rel, self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def manifest(self) -> set[tuple[str, int]]:
        """Documents redriven by earlier runs."""
        done: set[tuple[str, int]] = set()
        for key in self._keys(self._manifest_prefix()):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()
            done |= {(e["object"], e["line"]) for e in map(json.loads, filter(None, body.splitlines()))}
        return done

    def record(self, done: list[tuple[str, int]]) -> None:
        """Write this run's manifest object."""
        body = "".join(json.dumps({"object": k, "line": n}) + "\n" for k, n in done).encode()
        key = f"{self._manifest_prefix()}manifest-{int(time.time() * 1000)}.jsonl"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def _manifest_prefix(self) -> str:
        base = self.prefix if not self.prefix or self.prefix.endswith("/") else self.prefix + "/"
        return f"{base}{MANIFEST_DIR}/"


def read_documents(store: ErrorStore) -> Iterator[FailedDocument]:
    """Every error document in the store, decoded into the records it stands for."""
    for key, body in store.objects():
        for line_no, line in enumerate(body.splitlines()):
            if line.strip():
                yield _document(key, line_no, line)


def _document(key: str, line_no: int, line: bytes) -> FailedDocument:
    try:
        doc = json.loads(line)
    except ValueError:
        return FailedDocument(key, line_no, "unknown", "unknown", (), "not a JSON document")
    if not isinstance(doc, dict):
        return FailedDocument(key, line_no, "unknown", "unknown", (), "not a JSON document")
    code = next((str(doc[k]) for k in _ERROR_KEYS if k in doc), "unknown")
    conversion = "lastErrorCode" in doc or "dataCatalogTable" in doc or "format-conversion-failed" in key
    error_type = "format-conversion-failed" if conversion else "processing-failed"
    arrival = doc.get("arrivalTimestamp")
    arrival_ms = arrival if isinstance(arrival, int) else int(time.time() * 1000)
    try:
        raw = base64.b64decode(doc.get("rawData", ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        return FailedDocument(key, line_no, error_type, code, (), "rawData is not base64")
    if not raw:
        return FailedDocument(key, line_no, error_type, code, (), "rawData is empty")
    if not conversion:
        return FailedDocument(key, line_no, error_type, code, (SourceRecord(raw, arrival_ms, f"{key}#{line_no}"),))
    try:
        payloads = payloads_from_rows(raw)
    except ValueError as exc:
        return FailedDocument(key, line_no, error_type, code, (), str(exc))
    records = tuple(SourceRecord(record_bytes_of(p), arrival_ms, f"{key}#{line_no}") for p in payloads)
    return FailedDocument(key, line_no, error_type, code, records)


def payloads_from_rows(raw: bytes) -> list[dict[str, Any]]:
    """Rebuild CloudWatch Logs payloads from rows a conversion rejected.

    Raises:
        ValueError: the rows are not readable JSON objects with a message.
    """
    decoder = json.JSONDecoder()
    text = raw.decode("utf-8", errors="strict")
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            break
        row, pos = decoder.raw_decode(text, pos)
        if not isinstance(row, dict) or not isinstance(row.get("message"), str):
            raise ValueError("a row without a message cannot be rebuilt into a log event")
        key = (str(row.get("account_id", "")), str(row.get("log_group", "")), str(row.get("log_stream", "")))
        groups.setdefault(key, []).append(
            {
                "id": str(row.get("event_id", "")),
                "timestamp": _epoch_ms(row.get("event_time")),
                "message": row["message"],
            }
        )
    return [
        {
            "messageType": "DATA_MESSAGE",
            "owner": owner,
            "logGroup": group,
            "logStream": stream,
            "subscriptionFilters": ["redrive"],
            "logEvents": events,
        }
        for (owner, group, stream), events in groups.items()
    ]


def _epoch_ms(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)
        except ValueError:
            return None
    return None


def run_redrive(
    store: ErrorStore,
    *,
    to: str,
    lake: Path,
    settings: DeliverySettings,
    dry_run: bool = False,
    region: str | None = None,
) -> tuple[RedriveReport, RunStats | None]:
    """Send every not-yet-redriven document's records through the current transform.

    ``to`` is ``local`` (the twin, writing into ``lake``) or ``firehose:STREAM``. With ``dry_run`` the
    records go through the transform into a throw-away lake, and nothing is sent or marked.

    Raises:
        ConfigError: an unknown target. RedriveError: the store cannot be read or written.
    """
    if to != "local" and not to.startswith("firehose:"):
        raise ConfigError(f"--to {to!r}: expected local or firehose:STREAM")
    report = RedriveReport()
    done_before = store.manifest()
    sendable: list[FailedDocument] = []
    for doc in read_documents(store):
        report.documents += 1
        if (doc.object_key, doc.line) in done_before:
            report.already_redriven += 1
            continue
        report.by_code[f"{doc.error_type}: {doc.error_code}"] += 1
        if doc.problem is not None:
            report.unrecoverable += 1
            report.problems[doc.problem] += 1
        else:
            sendable.append(doc)
    records = [r for doc in sendable for r in doc.records]
    if dry_run or to == "local":
        from transform_lambda.handler import lambda_handler

        with tempfile.TemporaryDirectory() as scratch:
            target_lake = Path(scratch) if dry_run else lake
            stats = LocalFirehose(target_lake, settings, lambda_handler).run(records)
        if dry_run:
            return report, stats
        sent = sendable
    else:
        stats = None
        target = StreamTarget("firehose", to.partition(":")[2], region or settings.region)
        items = [ReingestItem(n, r.data) for n, doc in enumerate(sendable) for r in doc.records]
        lost = StreamReingester(target).put(items)
        sent = [doc for n, doc in enumerate(sendable) if n not in lost]
        report.not_sent = len(sendable) - len(sent)
    report.redriven = len(sent)
    report.records_sent = sum(len(doc.records) for doc in sent)
    if sent:
        store.record([(doc.object_key, doc.line) for doc in sent])
    return report, stats


def format_report(report: RedriveReport, *, dry_run: bool) -> str:
    """The report a person reads."""
    pending = sum(report.by_code.values()) - report.unrecoverable
    lines = [
        f"error documents:    {report.documents:>8,}",
        f"  already redriven: {report.already_redriven:>8,}",
        f"  would redrive:    {pending:>8,}"
        if dry_run
        else f"  redriven:         {report.redriven:>8,}   ({report.records_sent:,} records sent)",
        f"  unrecoverable:    {report.unrecoverable:>8,}",
    ]
    if report.not_sent:
        lines.append(f"  NOT SENT:         {report.not_sent:>8,}   (left unmarked: run again to retry them)")
    lines += [f"  {code}: {n:,}" for code, n in sorted(report.by_code.items())]
    lines += [f"  cannot redrive ({problem}): {n:,}" for problem, n in sorted(report.problems.items())]
    return "\n".join(lines)


__all__ = [
    "FailedDocument",
    "LocalErrorStore",
    "RedriveError",
    "RedriveReport",
    "S3ErrorStore",
    "format_report",
    "payloads_from_rows",
    "read_documents",
    "run_redrive",
]
