"""Sink stage, local directory: S3-style keys written as files under a lake root, atomically.

Input: a key (``logs/src=…/dt=…/hour=…/name.parquet``) and bytes. Output: the file, written under a
temporary name in the same directory, fsynced, renamed into place and the directory fsynced, so a
reader never sees a partial file and a published file survives a power loss, not only a crash.
Leftover temporary files from a crash are removed by ``clean_temporary_files``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Final

from stream_processor.errors import SinkError

TEMP_PREFIX: Final = ".tmp-"


class LocalDirSink:
    """Writes objects as files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, body: bytes) -> Path:
        """Write ``body`` at ``key`` atomically; returns the final path.

        Raises:
            SinkError: the key escapes the root, or the file cannot be written.
        """
        target = (self.root / key).resolve()
        root = self.root.resolve()
        if root not in target.parents:
            raise SinkError(f"key {key!r} escapes the lake directory")
        temp = temporary_path(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            publish(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise SinkError(f"cannot write {target}: {exc.strerror}") from exc
        return target

    def clean_temporary_files(self) -> int:
        """Remove temporary files that writers no longer running left behind (a crash); files of a
        live writer in this lake (``serve``, another run) are left alone. Returns how many."""
        removed = 0
        if self.root.is_dir():
            for temp in self.root.rglob(f"{TEMP_PREFIX}*.partial"):
                pid = temp.name[len(TEMP_PREFIX) :].split("-", 1)[0]
                if pid.isdigit() and not _running(int(pid)):
                    temp.unlink(missing_ok=True)
                    removed += 1
        return removed


def temporary_path(target: Path) -> Path:
    """Where a writer puts ``target``'s bytes before publishing them. The name neither starts nor ends
    like a data file, so no reader globs it; the writer's pid lets a later start remove only what
    crashed writers left (``clean_temporary_files``)."""
    return target.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}-{target.name}.partial")


def publish(temp: Path, target: Path) -> None:
    """Rename a written and fsynced ``temp`` onto ``target``, then fsync the directory so the new
    name itself is on disk (without it a power loss can undo the rename)."""
    os.replace(temp, target)
    sync_directory(target.parent)


def sync_directory(directory: Path) -> None:
    """fsync a directory's entry list."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


__all__ = ["TEMP_PREFIX", "LocalDirSink", "publish", "sync_directory", "temporary_path"]
