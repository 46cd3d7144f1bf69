"""Source stage, live: the local twin served as a Kinesis Data Firehose endpoint (``serve``).

Input: ``PutRecord``/``PutRecordBatch`` calls from unmodified clients (boto3, the AWS CLI) on
loopback, and ``CreateDeliveryStream`` to add a stream with its own configuration (prefixes, buffer
hints, dynamic partitioning, a Kinesis source). Output: the twin's buffer -> transform -> Parquet
lake, filled continuously with the buffer intervals on the wall clock; on SIGINT/SIGTERM the endpoint
stops accepting and every accepted record is processed and written before exit.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, Final, TextIO

from stream_processor.checkpoint import CHECKPOINT_DIR
from stream_processor.errors import ConfigError, ProcessorError, SinkError
from stream_processor.firehose.endpoint import AcceptedRecord, ApiError, StreamEndpoint
from stream_processor.firehose.invoke import Handler
from stream_processor.pipeline import LocalFirehose, RunStats
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from stream_processor.stream_config import StreamConfigError, is_stream_name, settings_from_request

# LocalStack's historical Firehose port: clients configured for it work unchanged.
DEFAULT_PORT: Final = 4573
# How often the worker checks the buffer intervals against the wall clock.
TICK_S: Final = 0.2


@dataclass(slots=True)
class ServeCounts:
    """What the endpoint accepted and refused while serving."""

    calls: int = 0
    records_accepted: int = 0
    refused_while_closing: int = 0


class LiveStream:
    """Accepted records -> a worker thread driving ``LocalFirehose`` incrementally."""

    def __init__(self, firehose: LocalFirehose, clock_ms: Callable[[], int]) -> None:
        self.firehose = firehose
        self.clock_ms = clock_ms
        self.counts = ServeCounts()
        self._queue: queue.Queue[list[SourceRecord] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closing = False
        self._worker = threading.Thread(target=self._work, name="serve-worker", daemon=True)
        self._error: BaseException | None = None
        self.spilled = 0
        self.spill_path: Path | None = None
        self.unsaved = 0
        self.spill_error: SinkError | None = None

    def accept(self, accepted: list[AcceptedRecord]) -> None:
        """Endpoint callback: queue a whole call's records; refused (503) once shutdown began.

        Raises:
            ApiError: the stream is shutting down (the client retries; nothing is half-accepted).
        """
        with self._lock:
            if self._closing:
                self.counts.refused_while_closing += len(accepted)
                raise ApiError(503, "ServiceUnavailableException", "The delivery stream is shutting down.")
            now = self.clock_ms()
            self._queue.put([SourceRecord(a.data, now, f"serve:{a.stream}") for a in accepted])
            self.counts.calls += 1
            self.counts.records_accepted += len(accepted)

    @property
    def failed(self) -> bool:
        """Whether the worker has stopped on an error (``close`` says which, and what was saved)."""
        return self._error is not None

    def start(self) -> None:
        """Open the twin's stream and start the worker."""
        self.firehose.open_stream()
        self._worker.start()

    def close(self) -> RunStats:
        """Refuse new calls, process everything accepted, write every buffer.

        Raises:
            ServeError: the worker failed; accepted records it could not process were spilled to a
                replayable file (named in the message), or could not even be spilled.
        """
        with self._lock:
            self._closing = True
        self._queue.put(None)
        self._worker.join()
        if self._error is not None:
            name, error = self.firehose.settings.stream_name, self._error
            where = f"; {self.spilled} accepted records saved to {self.spill_path}" if self.spilled else ""
            if self.unsaved:
                where = f"; {self.unsaved} accepted records could not be saved either: {self.spill_error}"
            raise ServeError(f"stream {name} failed: {type(error).__name__}: {error}{where}") from error
        return self.firehose.stats

    def _work(self) -> None:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=TICK_S)
                except queue.Empty:
                    item = []
                if item is None:
                    break
                if item:
                    self.firehose.put(item)
                self.firehose.flush_due(self.clock_ms())
            self.firehose.close_stream()
        except BaseException as exc:  # reported by close(); from now on the endpoint refuses calls
            with self._lock:
                self._closing = True
            self._error = exc
            with contextlib.suppress(Exception):  # one more try at writing what is buffered
                self.firehose.close_stream()
            self._spill_queue()

    def _spill_queue(self) -> None:
        """Save every record accepted (answered 200) whose outcome is not on disk, as a Firehose event
        file that ``replay`` and ``run`` read, so a failed worker loses none of them: those still
        queued, and those the twin held (buffered, in a batch that failed, in an unwritten object)."""
        pending: list[SourceRecord] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item:
                pending.extend(item)
        pending.extend(self.firehose.unwritten_records())
        if not pending:
            return
        key = f"{CHECKPOINT_DIR}/serve-unprocessed-{self.clock_ms()}.json"
        event = {
            "invocationId": "serve-unprocessed",
            "deliveryStreamArn": self.firehose.settings.delivery_stream_arn,
            "region": self.firehose.settings.region,
            "records": [
                {
                    "recordId": str(n),
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "data": base64.b64encode(r.data).decode(),
                }
                for n, r in enumerate(pending)
            ],
        }
        try:
            path = self.firehose.sink.put(key, json.dumps(event).encode())
        except SinkError as exc:  # the same full or broken disk, most likely: say so, loudly
            self.unsaved, self.spill_error = len(pending), exc
            return
        self.spilled, self.spill_path = len(pending), path


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class ServeError(ProcessorError):
    """A served stream failed; the message says what happened to the records it had accepted."""

    exit_code = 3


def serve(
    lake: Path,
    settings: DeliverySettings,
    handler: Handler,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    streams: set[str] | None = None,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> tuple[ServeCounts, RunStats]:
    """Serve until SIGINT/SIGTERM (or ``stop``), then flush and return the counts.

    Raises:
        ConfigError: the address cannot be bound or the delivery settings are invalid.
    """
    clock = lambda: int(time.time() * 1000)  # noqa: E731
    names = streams or {settings.stream_name}
    for name in sorted(names):
        if not is_stream_name(name):
            raise ConfigError(f"--stream {name!r}: a delivery stream name is 1-64 of [a-zA-Z0-9_.-]")
    try:  # before answering any call: a lake that cannot hold files would lose what is accepted
        lake.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--lake {lake}: cannot be used as a directory ({exc.strerror or exc})") from exc
    lives = {
        name: LiveStream(LocalFirehose(lake, replace(settings, stream_name=name), handler), clock) for name in names
    }
    lock = threading.Lock()
    closing = threading.Event()

    def accept(accepted: list[AcceptedRecord]) -> None:
        lives[accepted[0].stream].accept(accepted)

    def create(body: dict[str, Any]) -> dict[str, Any]:
        try:
            created = settings_from_request(body, settings)
            firehose = LocalFirehose(lake, created, handler)
        except StreamConfigError as exc:
            raise ApiError(400, exc.error_type, str(exc)) from exc
        except ConfigError as exc:
            raise ApiError(400, "InvalidArgumentException", str(exc)) from exc
        with lock:
            if closing.is_set():
                raise ApiError(503, "ServiceUnavailableException", "The endpoint is shutting down.")
            if created.stream_name in lives:
                raise ApiError(400, "ResourceInUseException", f"Firehose {created.stream_name} already exists.")
            live = LiveStream(firehose, clock)
            live.start()
            lives[created.stream_name] = live
            endpoint.firehose_streams.add(created.stream_name)
        print(f"created delivery stream {created.stream_name} (prefix {created.prefix})", file=out, flush=True)
        return {"DeliveryStreamARN": created.delivery_stream_arn}

    try:
        endpoint = StreamEndpoint(accept, firehose_streams=set(names), host=host, port=port, create=create)
    except (OSError, OverflowError) as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from exc
    stop = stop or threading.Event()
    previous = _install_signal_handlers(stop)
    for live in lives.values():
        live.start()
    endpoint.start()
    print(f"serving Firehose on {endpoint.url} (streams: {', '.join(sorted(names))}; lake: {lake})", file=out)
    print(
        f"buffers: processor {settings.processor_buffer_size_mb} MB / {settings.processor_buffer_interval_s} s, "
        f"S3 {settings.s3_buffer_size_mb} MB / {settings.s3_buffer_interval_s} s; Ctrl-C flushes and stops",
        file=out,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            with lock:
                dead = [live for live in lives.values() if live.failed]
            if dead:  # it answers every call 503 from now on: stop, and say why, rather than serve on
                print(f"stream {dead[0].firehose.settings.stream_name} failed; stopping", file=out, flush=True)
                break
    finally:
        with lock:  # refuse first (new streams too), so nothing is accepted after the final flush
            closing.set()
            to_close = list(lives.values())
        results: list[tuple[ServeCounts, RunStats]] = []
        failures: list[ServeError] = []
        for live in to_close:  # every stream is closed, whatever happened to another
            try:
                results.append((live.counts, live.close()))
            except ServeError as exc:
                failures.append(exc)
                results.append((live.counts, live.firehose.stats))
        endpoint.stop()
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)
    if failures:
        raise ServeError("; ".join(str(f) for f in failures))
    return _total(results)


def _total(results: list[tuple[ServeCounts, RunStats]]) -> tuple[ServeCounts, RunStats]:
    """The counts of every served stream added up."""
    counts, stats = ServeCounts(), RunStats()
    for one_counts, one_stats in results:
        for name in ServeCounts.__slots__:
            setattr(counts, name, getattr(counts, name) + getattr(one_counts, name))
        for name in RunStats.__slots__:
            value = getattr(one_stats, name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(stats, name, getattr(stats, name) + value)
            elif isinstance(value, dict):
                merged = getattr(stats, name)
                for key, n in value.items():
                    merged[key] = merged.get(key, 0) + n
    return counts, stats


def _install_signal_handlers(stop: threading.Event) -> dict[int, Any]:
    """SIGINT and SIGTERM set ``stop`` (only possible from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}


def format_serve_summary(counts: ServeCounts, stats: RunStats) -> str:
    """The shutdown summary."""
    return (
        f"accepted {counts.records_accepted:,} records in {counts.calls:,} calls"
        + (f" (refused {counts.refused_while_closing:,} while stopping)" if counts.refused_while_closing else "")
        + f"; rows written {stats.rows_written:,}, files {stats.files_written:,}, "
        f"failed records {stats.records_failed + stats.records_conversion_failed:,}"
    )


__all__ = ["DEFAULT_PORT", "LiveStream", "ServeCounts", "ServeError", "format_serve_summary", "serve"]
