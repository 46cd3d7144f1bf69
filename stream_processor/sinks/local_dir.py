"""Sink stage, local directory: S3-style keys written as files under a lake root, atomically.

Input: a key (``logs/src=…/dt=…/hour=…/name.parquet``) and bytes. Output: the file, written under a
temporary name in the same directory, fsynced, renamed into place and the directory fsynced, so a
reader never sees a partial file and a published file survives a power loss, not only a crash.
Leftover temporary files from a crash are removed by ``clean_temporary_files``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from pathlib import Path
from typing import Final

from stream_processor.errors import SinkError

logger = logging.getLogger(__name__)

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
            ensure_directory(target.parent)
            with open(temp, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            publish(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):  # e.g. NotADirectoryError again: the write's error counts
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


def ensure_directory(directory: Path) -> None:
    """``mkdir -p`` that also fsyncs the parent of each directory it creates, so a new partition
    directory is as durable as the file published into it."""
    missing: list[Path] = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        sync_directory(created.parent)


def sync_directory(directory: Path) -> None:
    """fsync a directory's entry list, best effort: the rename or mkdir it follows has happened, so
    a file system that refuses (no read permission on the directory, a mount without directory
    fsync) costs durability against power loss, not the write; it is logged, never raised."""
    try:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        logger.warning("Cannot fsync directory %s (%s); a power loss may undo its last change.", directory, exc)


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


__all__ = ["TEMP_PREFIX", "LocalDirSink", "ensure_directory", "publish", "sync_directory", "temporary_path"]
