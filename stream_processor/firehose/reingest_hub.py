"""Source stage, re-ingestion: one loopback Firehose/Kinesis endpoint per process through which the
transform's real boto3 calls bring records back into whichever twin stream they name.

Input: twin streams registering (stream name -> where their re-ingested records go). Output: the
endpoint while at least one stream is registered, with ``AWS_ENDPOINT_URL_FIREHOSE`` and
``AWS_ENDPOINT_URL_KINESIS`` pointing at it; the variables are restored when the last one leaves.
Several streams in one process (``serve`` with several delivery streams) share it, so none of them
can point the variables away from another.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from stream_processor.firehose.endpoint import AcceptedRecord, StreamEndpoint

Accept = Callable[[list[AcceptedRecord]], None]

_lock = threading.Lock()
_firehose: dict[str, Accept] = {}
_kinesis: dict[str, Accept] = {}
_endpoint: StreamEndpoint | None = None
_saved: dict[str, str | None] = {}


def _route(records: list[AcceptedRecord]) -> None:
    first = records[0]
    routes = _firehose if first.service == "firehose" else _kinesis
    routes[first.stream](records)


@contextmanager
def reingestion(firehose_stream: str, kinesis_stream: str | None, accept: Accept) -> Iterator[None]:
    """Route re-ingested records for these stream names to ``accept`` while the context is open."""
    global _endpoint
    with _lock:
        if firehose_stream in _firehose or (kinesis_stream and kinesis_stream in _kinesis):
            raise RuntimeError(f"stream {firehose_stream} already receives re-ingested records in this process")
        _firehose[firehose_stream] = accept
        if kinesis_stream:
            _kinesis[kinesis_stream] = accept
        if _endpoint is None:
            endpoint = StreamEndpoint(_route, firehose_streams=set(), kinesis_streams=set()).start()
            overrides = {"AWS_ENDPOINT_URL_FIREHOSE": endpoint.url, "AWS_ENDPOINT_URL_KINESIS": endpoint.url}
            if not os.environ.get("AWS_ACCESS_KEY_ID"):
                # Requests never leave this machine; botocore only needs something to sign with.
                overrides.update(AWS_ACCESS_KEY_ID="local-twin", AWS_SECRET_ACCESS_KEY="local-twin")
            _saved.update({key: os.environ.get(key) for key in overrides})
            os.environ.update(overrides)
            _endpoint = endpoint
        _endpoint.firehose_streams.add(firehose_stream)
        if kinesis_stream:
            _endpoint.kinesis_streams.add(kinesis_stream)
    try:
        yield
    finally:
        with _lock:
            _firehose.pop(firehose_stream, None)
            if kinesis_stream:
                _kinesis.pop(kinesis_stream, None)
            if _endpoint is not None:
                _endpoint.firehose_streams.discard(firehose_stream)
                if kinesis_stream:
                    _endpoint.kinesis_streams.discard(kinesis_stream)
                if not _firehose and not _kinesis:
                    _endpoint.stop()
                    _endpoint = None
                    for key, value in _saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
                    _saved.clear()


__all__ = ["reingestion"]
