"""Sink stage, object stores: the lake as keys and bytes, on a local directory or on S3.

Input: a location, ``DIR`` or ``s3://bucket/prefix``. Output: an ``ObjectStore`` that lists, reads,
writes (atomically per object), renames and deletes keys relative to that location. Backfill and
compaction use it so that the same code runs on the local lake and on the S3 lake (boto3 honours
``AWS_ENDPOINT_URL``, which is how the tests point it at a moto server).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, cast

from stream_processor.errors import ConfigError, SinkError
from stream_processor.sinks.local_dir import (
    TEMP_PREFIX,
    LocalDirSink,
    ensure_directory,
    publish,
    sync_directory,
    temporary_path,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_SCHEME: Final = "s3://"
# Adaptive retries back off on throttling (SlowDown, 503, ThrottlingException) with jitter and also
# rate-limit the client. https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
RETRY_MODE: Final = "adaptive"
RETRY_ATTEMPTS: Final = 10


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object: its key relative to the store's location, its size in bytes, and a token that
    changes whenever its content is replaced (the S3 ETag; size and mtime locally)."""

    key: str
    size: int
    version: str = ""


class ObjectStore(Protocol):
    """What backfill and compaction need from a lake location."""

    location: str

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Objects whose key starts with ``prefix``, in key order."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        ...

    def version_of(self, key: str) -> str | None:
        """The object's current ``StoredObject.version``, or None when it does not exist."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """The whole object (small objects only: manifests, state)."""
        ...

    def open_read(self, key: str) -> IO[bytes]:
        """A streaming reader of the object."""
        ...

    def local_path(self, key: str, scratch: Path) -> Path:
        """A local file with the object's bytes (the file itself locally, a download under ``scratch`` on S3)."""
        ...

    def put_bytes(self, key: str, body: bytes) -> None:
        """Write an object; readers see the old object or the new one, never a part."""
        ...

    def put_file(self, key: str, path: Path) -> None:
        """Write an object from a local file (streamed, multipart on S3)."""
        ...

    def rename(self, source: str, target: str) -> None:
        """Move an object to a new key (atomic rename locally; copy then delete on S3)."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object; a missing object is not an error."""
        ...


def open_store(location: str | Path) -> ObjectStore:
    """The store for ``DIR`` or ``s3://bucket/prefix``.

    Raises:
        ConfigError: an ``s3://`` location without a bucket.
    """
    text = str(location)
    if text.startswith(S3_SCHEME):
        bucket, _, prefix = text[len(S3_SCHEME) :].partition("/")
        if not bucket:
            raise ConfigError(f"{text}: no bucket in the S3 location")
        return S3Store(bucket, prefix)
    return LocalStore(Path(text))


def _local_version(stat: os.stat_result) -> str:
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class LocalStore:
    """Keys as files under a root directory; writes go through ``LocalDirSink`` (temp + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)
        self._sink = LocalDirSink(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Objects under ``prefix`` (a directory prefix or a key prefix), skipping writers' temp files."""
        base = self.root / prefix
        start = base if not prefix or prefix.endswith("/") or base.is_dir() else base.parent
        if not start.is_dir() or not start.resolve().is_relative_to(self.root.resolve()):
            return
        found: list[StoredObject] = []
        for path in start.rglob("*"):
            if path.is_file() and not path.name.startswith(TEMP_PREFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    stat = path.stat()
                    found.append(StoredObject(key, stat.st_size, _local_version(stat)))
        yield from sorted(found, key=lambda o: o.key)

    def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return self._path(key).is_file()

    def version_of(self, key: str) -> str | None:
        """Size and modification time of the file, or None."""
        try:
            return _local_version(self._path(key).stat())
        except FileNotFoundError:
            return None

    def read_bytes(self, key: str) -> bytes:
        """The file's bytes."""
        return self._path(key).read_bytes()

    def open_read(self, key: str) -> IO[bytes]:
        """The file, opened for reading."""
        return open(self._path(key), "rb")

    def local_path(self, key: str, scratch: Path) -> Path:
        """The file itself."""
        return self._path(key)

    def put_bytes(self, key: str, body: bytes) -> None:
        """Atomic write (temporary name, fsync, rename)."""
        self._sink.put(key, body)

    def put_file(self, key: str, path: Path) -> None:
        """Copy ``path`` in under a temporary name, then rename into place."""
        target = self._path(key)
        temp = temporary_path(target)
        try:
            ensure_directory(target.parent)
            shutil.copyfile(path, temp)
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            publish(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise SinkError(f"cannot write {target}: {exc.strerror}") from exc

    def rename(self, source: str, target: str) -> None:
        """``os.replace``: atomic on one file system (both directories fsynced after)."""
        origin, dest = self._path(source), self._path(target)
        ensure_directory(dest.parent)
        publish(origin, dest)
        if origin.parent != dest.parent:
            sync_directory(origin.parent)

    def delete(self, key: str) -> None:
        """Unlink the file if it is there."""
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Keys under ``s3://bucket/prefix``, through boto3."""

    def __init__(self, bucket: str, prefix: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"{S3_SCHEME}{bucket}/{self.prefix}"
        if client is None:
            import boto3
            from botocore.config import Config

            retries: Any = {"mode": RETRY_MODE, "max_attempts": RETRY_ATTEMPTS}
            client = boto3.client("s3", config=Config(retries=retries))
        self.client = client

    def _key(self, key: str) -> str:
        return self.prefix + key

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """ListObjectsV2, paginated (S3 returns keys in UTF-8 binary order)."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"][len(self.prefix) :], item["Size"], item.get("ETag", ""))

    def exists(self, key: str) -> bool:
        """HeadObject."""
        return self.version_of(key) is not None

    def version_of(self, key: str) -> str | None:
        """HeadObject's ETag, or None."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        etag: str = head.get("ETag", "")
        return etag

    def read_bytes(self, key: str) -> bytes:
        """GetObject, whole body."""
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        return body

    def open_read(self, key: str) -> IO[bytes]:
        """GetObject's streaming body."""
        body: Any = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        return cast(IO[bytes], body)

    def local_path(self, key: str, scratch: Path) -> Path:
        """Download (ranged, parallel parts) into ``scratch``."""
        target = scratch / key.replace("/", "_")
        self.client.download_file(self.bucket, self._key(key), str(target))
        return target

    def put_bytes(self, key: str, body: bytes) -> None:
        """PutObject (atomic per object in S3)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)

    def put_file(self, key: str, path: Path) -> None:
        """Managed upload (multipart above 8 MiB)."""
        self.client.upload_file(str(path), self.bucket, self._key(key))

    def rename(self, source: str, target: str) -> None:
        """Managed copy (multipart above 8 MiB, so objects over 5 GiB work too), then DeleteObject."""
        self.client.copy({"Bucket": self.bucket, "Key": self._key(source)}, self.bucket, self._key(target))
        self.client.delete_object(Bucket=self.bucket, Key=self._key(source))

    def delete(self, key: str) -> None:
        """DeleteObject (idempotent in S3)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


__all__ = [
    "RETRY_ATTEMPTS",
    "RETRY_MODE",
    "S3_SCHEME",
    "LocalStore",
    "ObjectStore",
    "S3Store",
    "StoredObject",
    "open_store",
]
