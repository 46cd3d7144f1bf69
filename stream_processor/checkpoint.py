"""Durable progress of a twin run, so that after a crash (even ``kill -9``) the same command resumes.

Input: the run's identity (its inputs and settings) and, after every full flush, how many input
records are durably in the lake. Output: a small JSON file under ``<lake>/.twin/``, replaced
atomically; on restart, the number of input records to skip. Records after the last checkpoint are
processed again, so delivery is at least once: a crash can duplicate rows (``event_id`` removes them),
never lose one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stream_processor.errors import ConfigError
from stream_processor.sinks.local_dir import ensure_directory, publish

CHECKPOINT_DIR: Final = ".twin"


@dataclass(frozen=True, slots=True)
class Progress:
    """What a checkpoint holds."""

    records_done: int
    complete: bool


class Checkpoint:
    """The checkpoint file of one run identity in one lake."""

    def __init__(self, lake: Path, identity: str) -> None:
        self.path = lake / CHECKPOINT_DIR / f"run-{identity}.json"

    @staticmethod
    def identity_of(paths: Iterable[Path], settings_repr: str) -> str:
        """A run's identity: its input files (name, size, modification time) and its settings."""
        digest = hashlib.sha256(settings_repr.encode())
        for path in paths:
            stat = path.stat()
            digest.update(os.fsencode(path.resolve()) + f"\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:20]

    def load(self) -> Progress:
        """The saved progress (nothing done when there is no checkpoint).

        Raises:
            ConfigError: a checkpoint this module did not write (edited, or of another tool): resuming
                from it could skip records never delivered, starting over could deliver some twice.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Progress(0, False)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: unreadable checkpoint ({exc}); remove it to start over") from exc
        try:
            doc = json.loads(text)
            done, complete = doc["records_done"], doc["complete"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{self.path}: unreadable checkpoint; remove it to start over") from exc
        if type(done) is not int or done < 0 or type(complete) is not bool:
            raise ConfigError(f"{self.path}: unreadable checkpoint; remove it to start over")
        return Progress(done, complete)

    def save(self, progress: Progress) -> None:
        """Replace the checkpoint atomically (write, fsync, rename, fsync the directory)."""
        ensure_directory(self.path.parent)
        temp = self.path.with_suffix(".partial")
        with open(temp, "w") as handle:
            json.dump({"records_done": progress.records_done, "complete": progress.complete}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        publish(temp, self.path)

    def clear(self) -> None:
        """Forget the progress (a fresh run)."""
        self.path.unlink(missing_ok=True)


__all__ = ["CHECKPOINT_DIR", "Checkpoint", "Progress"]
