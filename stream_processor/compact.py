"""Compaction: merge the small Parquet files of each closed partition, published crash-safely.

Input: the lake's ``ObjectStore`` and ``CompactionOptions``. Output: per partition, a few objects
near the target size replacing the many small ones (same schema, duplicate event ids removed), and a
``CompactionReport``. Per partition (docs/backfill-and-compaction.md, "Publishing"):
1. stage: merged files go under hidden names ``_compact-<run>-<n>.parquet.pending`` in the partition
   (a leading ``_`` hides them from Athena, the suffix from ``*.parquet`` globs);
2. commit point: the manifest ``_state/compaction/<partition>.json`` names the inputs and outputs;
3. publish: each staged object is renamed to its final name; 4. retire: each input is deleted;
5. the manifest is deleted.
A run first finishes every manifest it finds (roll forward) and deletes staged objects no manifest
names (roll back), so a crash at any step is repaired by the next run.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from stream_processor.backfill import table_prefix
from stream_processor.compact_merge import MIB, MergeOptions, SchemaMismatchError, merge_files
from stream_processor.errors import ProcessorError
from stream_processor.progress import Progress
from stream_processor.settings import DeliverySettings
from stream_processor.sinks.object_store import ObjectStore, StoredObject

logger = logging.getLogger(__name__)

MANIFEST_PREFIX: Final = "_state/compaction/"
STAGED_PREFIX: Final = "_compact-"
STAGED_SUFFIX: Final = ".parquet.pending"
# Athena reads 128 MB-1 GB files best; 256 MiB keeps a file per Lambda-sized worker comfortable.
TARGET_MB_DEFAULT: Final = 256
# Firehose writes a partition while events of its hour arrive: up to the processor buffer (900 s at
# most) and the S3 buffer (900 s at most) after the hour ends, plus retries. Two hours leaves margin.
GRACE_MINUTES_DEFAULT: Final = 120
Checkpoint = Callable[[str], None]


class CompactionError(ProcessorError):
    """A manifest cannot be finished or rolled back without an operator."""


@dataclass(frozen=True, slots=True)
class CompactionOptions:
    """What to compact and how."""

    merge: MergeOptions = field(default_factory=MergeOptions)
    grace_minutes: int = GRACE_MINUTES_DEFAULT
    min_files: int = 2
    partitions: tuple[str, ...] = ()
    dry_run: bool = False
    settings: DeliverySettings = field(default_factory=DeliverySettings)


@dataclass(slots=True)
class PartitionReport:
    """One partition before and after."""

    partition: str
    files_before: int
    bytes_before: int
    files_after: int = 0
    bytes_after: int = 0
    rows_in: int = 0
    rows_out: int = 0
    duplicates_removed: int = 0
    id_passes: int = 0
    elapsed_s: float = 0.0
    error: str | None = None  # why the partition was left alone


@dataclass(slots=True)
class CompactionReport:
    """Every partition compacted, plus what recovery did."""

    partitions: list[PartitionReport] = field(default_factory=list)
    skipped_open: int = 0
    skipped_small: int = 0
    rolled_forward: int = 0
    rolled_back: int = 0
    kept_changed: int = 0  # inputs replaced between merge and retire, left in place
    elapsed_s: float = 0.0
    dry_run: bool = False

    def totals(self) -> dict[str, Any]:
        """Sums over the partitions, and the throughput in input MB/s."""
        keys = ("files_before", "files_after", "bytes_before", "bytes_after", "rows_in", "rows_out")
        out: dict[str, Any] = {k: sum(getattr(p, k) for p in self.partitions) for k in keys}
        out["duplicates_removed"] = sum(p.duplicates_removed for p in self.partitions)
        out["mb_per_s"] = round(out["bytes_before"] / MIB / self.elapsed_s, 2) if self.elapsed_s else 0.0
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "dry_run": self.dry_run,
            "partitions": [{name: getattr(p, name) for name in p.__slots__} for p in self.partitions],
            "skipped_open": self.skipped_open,
            "skipped_small": self.skipped_small,
            "rolled_forward": self.rolled_forward,
            "rolled_back": self.rolled_back,
            "kept_changed": self.kept_changed,
            "elapsed_s": round(self.elapsed_s, 3),
            "totals": self.totals(),
        }


class Compactor:
    """Compacts the partitions of one lake; assumes it is the only compactor of that lake."""

    def __init__(
        self,
        store: ObjectStore,
        options: CompactionOptions,
        *,
        clock_ms: Callable[[], int] | None = None,
        checkpoint: Checkpoint | None = None,
        scratch: Path | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.checkpoint = checkpoint or (lambda step: None)
        self.scratch = scratch
        self.table_prefix = table_prefix(options.settings)
        self.report = CompactionReport(dry_run=options.dry_run)

    def run(self, progress_stream: Any = None) -> CompactionReport:
        """Recover, then compact every selected closed partition with enough files.

        Raises:
            CompactionError: a manifest that can be neither finished nor rolled back.
        A partition holding a file that cannot be read or does not fit the table is left alone and
        reported (``PartitionReport.error``); the others are compacted.
        """
        started = time.perf_counter()
        if not self.options.dry_run:
            self.recover()
        work = self.plan()
        progress = Progress(len(work), "partitions", stream=progress_stream) if progress_stream is not None else None
        for partition, files in work:
            self.report.partitions.append(self.compact_partition_or_report(partition, files))
            if progress is not None:
                progress.update(done=1, rows=self.report.partitions[-1].rows_out)
        if progress is not None:
            progress.close()
        self.report.elapsed_s = time.perf_counter() - started
        return self.report

    def plan(self) -> list[tuple[str, list[StoredObject]]]:
        """Selected partitions past the grace period with at least ``min_files`` data files."""
        partitions: dict[str, list[StoredObject]] = {}
        extension = self.options.settings.file_extension
        for obj in self.store.list(self.table_prefix):
            partition, _, name = obj.key[len(self.table_prefix) :].rpartition("/")
            if partition and name.endswith(extension) and not name.startswith(("_", ".")):
                partitions.setdefault(partition, []).append(obj)
        work = []
        for partition, files in sorted(partitions.items()):
            if self.options.partitions and not any(fnmatch.fnmatch(partition, p) for p in self.options.partitions):
                continue
            if not self._closed(partition):
                self.report.skipped_open += 1
            elif len(files) < self.options.min_files:
                self.report.skipped_small += 1
            else:
                work.append((partition, files))
        return work

    def _closed(self, partition: str) -> bool:
        values = {k: v for k, _, v in (part.partition("=") for part in partition.split("/"))}
        try:
            start = datetime.strptime(f"{values['dt']} {values['hour']}", "%Y-%m-%d %H").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            return False  # not the stream's layout: never touched
        end_ms = int(start.timestamp() * 1000) + 3_600_000
        return end_ms + self.options.grace_minutes * 60_000 <= self.clock_ms()

    def compact_partition_or_report(self, partition: str, files: list[StoredObject]) -> PartitionReport:
        """``compact_partition``, or a report of why the partition was left alone (a file that cannot
        be read or does not fit the table): one bad file must not stop the other partitions."""
        try:
            return self.compact_partition(partition, files)
        except SchemaMismatchError as exc:
            logger.warning("Left %s alone: %s", partition, exc)
            return PartitionReport(partition, len(files), sum(f.size for f in files), error=str(exc))

    def failed(self) -> list[PartitionReport]:
        """The partitions left alone so far."""
        return [p for p in self.report.partitions if p.error is not None]

    def compact_partition(self, partition: str, files: list[StoredObject]) -> PartitionReport:
        """Merge, stage, commit, publish and retire one partition."""
        started = time.perf_counter()
        report = PartitionReport(partition, len(files), sum(f.size for f in files))
        if self.options.dry_run:
            return report
        run_id = uuid.uuid4().hex[:12]
        prefix = f"{self.table_prefix}{partition}/"
        settings = self.options.settings
        with tempfile.TemporaryDirectory(prefix="compact-", dir=self.scratch) as tmp:
            scratch = Path(tmp)
            (scratch / "in").mkdir()
            (scratch / "out").mkdir()
            paths = [self.store.local_path(f.key, scratch / "in") for f in files]
            merged = merge_files(
                paths,
                scratch / "out",
                lambda n: f"{settings.stream_name}-compacted-{run_id}-{n:04d}{settings.file_extension}",
                self.options.merge,
            )
            outputs: list[dict[str, Any]] = []
            for n, out in enumerate(merged.outputs):
                staged = f"{prefix}{STAGED_PREFIX}{run_id}-{n:04d}{STAGED_SUFFIX}"
                self.checkpoint(f"stage:{n}")
                self.store.put_file(staged, out.path)
                outputs.append({"staged": staged, "final": prefix + out.path.name, "rows": out.rows, "size": out.bytes})
        manifest = {
            "version": 1,
            "run_id": run_id,
            "partition": partition,
            "inputs": [{"key": f.key, "size": f.size, "version": f.version} for f in files],
            "outputs": outputs,
            "rows_in": merged.rows_in,
            "rows_out": merged.rows_out,
        }
        self.checkpoint("manifest")
        self.store.put_bytes(self._manifest_key(partition), json.dumps(manifest, indent=1).encode())
        self._finish(manifest)
        report.files_after = len(outputs)
        report.bytes_after = sum(out.bytes for out in merged.outputs)
        report.rows_in, report.rows_out = merged.rows_in, merged.rows_out
        report.duplicates_removed, report.id_passes = merged.duplicates, merged.id_passes
        report.elapsed_s = time.perf_counter() - started
        return report

    def recover(self) -> None:
        """Finish every committed manifest; delete staged objects that no manifest names.

        Raises:
            CompactionError: an output is lost after inputs were already deleted.
        """
        named: set[str] = set()
        for obj in list(self.store.list(MANIFEST_PREFIX)):
            manifest = json.loads(self.store.read_bytes(obj.key))
            named.update(o["staged"] for o in manifest["outputs"])
            self._finish(manifest, recovering=True)
            self.report.rolled_forward += 1
        for obj in list(self.store.list(self.table_prefix)):
            name = obj.key.rpartition("/")[2]
            if name.startswith(STAGED_PREFIX) and name.endswith(STAGED_SUFFIX) and obj.key not in named:
                self.store.delete(obj.key)
                self.report.rolled_back += 1

    def _finish(self, manifest: dict[str, Any], *, recovering: bool = False) -> None:
        """Publish every output, then retire every input, then drop the manifest (idempotent)."""
        store = self.store
        key = self._manifest_key(manifest["partition"])
        if recovering:
            missing = [o for o in manifest["outputs"] if not store.exists(o["staged"]) and not store.exists(o["final"])]
            if missing:
                if all(store.exists(i["key"]) for i in manifest["inputs"]):
                    # Nothing retired yet: undo the publish and keep the inputs.
                    for o in manifest["outputs"]:
                        store.delete(o["final"])
                        store.delete(o["staged"])
                    store.delete(key)
                    return
                raise CompactionError(f"{key}: outputs {missing[0]['final']} … are gone and inputs were deleted")
        for n, o in enumerate(manifest["outputs"]):
            self.checkpoint(f"publish:{n}")
            if store.exists(o["staged"]):
                store.rename(o["staged"], o["final"])
        gone = [o["final"] for o in manifest["outputs"] if not store.exists(o["final"])]
        if gone:
            # An output vanished after it was staged (another compactor's recovery deleted it as
            # unreferenced): retiring the inputs now would lose their rows. Keep them, undo the rest.
            for o in manifest["outputs"]:
                store.delete(o["final"])
                store.delete(o["staged"])
            store.delete(key)
            raise CompactionError(
                f"{key}: output {gone[0]} vanished before the inputs were retired (is another compaction "
                "running on this lake?); the inputs are kept"
            )
        for n, i in enumerate(manifest["inputs"]):
            self.checkpoint(f"retire:{n}")
            merged = i.get("version")  # absent in manifests of older versions of this tool
            current = store.version_of(i["key"]) if merged else None
            if merged and current is not None and current != merged:
                # Replaced since it was merged: its new content is in no output, so it stays.
                logger.warning("Kept %s: it changed after it was merged.", i["key"])
                self.report.kept_changed += 1
                continue
            store.delete(i["key"])
        self.checkpoint("done")
        store.delete(key)

    def _manifest_key(self, partition: str) -> str:
        return f"{MANIFEST_PREFIX}{partition}.json"


__all__ = [
    "GRACE_MINUTES_DEFAULT",
    "MANIFEST_PREFIX",
    "STAGED_PREFIX",
    "STAGED_SUFFIX",
    "TARGET_MB_DEFAULT",
    "CompactionError",
    "CompactionOptions",
    "CompactionReport",
    "Compactor",
    "PartitionReport",
]
