"""Source stage, HTTP: a local endpoint speaking the part of the Firehose and Kinesis JSON APIs that
producers use, so unmodified clients (boto3, the AWS CLI, the transform's own re-ingestion) can put
records into the local twin.

Input: ``PutRecord``/``PutRecordBatch`` (Firehose, ``Firehose_20150804``) and ``PutRecord``/``PutRecords``
(Kinesis, ``Kinesis_20131202``) requests, JSON 1.1 over HTTP on 127.0.0.1. Output: accepted records
handed to a callback, and the service's response and error shapes and limits (firehose-contract §5).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from transform_lambda.limits import (
    FIREHOSE_MAX_BATCH_BYTES,
    FIREHOSE_MAX_RECORD_BYTES,
    FIREHOSE_MAX_RECORDS,
    KINESIS_MAX_BATCH_BYTES,
    KINESIS_MAX_RECORD_BYTES,
    KINESIS_MAX_RECORDS,
)

logger = logging.getLogger(__name__)

# A request body larger than any valid call is refused before it is read.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
# How often the serving thread looks for shutdown; stop() waits up to this long (socketserver's
# default of 0.5 s added about a quarter second to every twin run).
_POLL_INTERVAL_S: Final = 0.05


@dataclass(frozen=True, slots=True)
class AcceptedRecord:
    """A record the endpoint accepted: its bytes, the API it came through, its partition key."""

    service: str  # "firehose" or "kinesis"
    stream: str
    data: bytes
    partition_key: str | None = None


class ApiError(Exception):
    """An error answered in the service's JSON error shape."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


class StreamEndpoint:
    """A threaded HTTP server on loopback; ``accept`` receives every accepted batch of records."""

    def __init__(
        self,
        accept: Callable[[list[AcceptedRecord]], None],
        *,
        firehose_streams: set[str],
        kinesis_streams: set[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        create: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.accept = accept
        self.create = create
        self.firehose_streams = firehose_streams
        self.kinesis_streams = kinesis_streams or set()
        self._server = _Server((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``http://host:port`` of the running endpoint."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StreamEndpoint:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL_S,), name="stream-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StreamEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        """Answer one API call.

        Raises:
            ApiError: the call is invalid, in the service's terms.
        """
        service, _, operation = target.partition(".")
        if service == "Firehose_20150804":
            if operation == "PutRecordBatch":
                return self._put_record_batch(body)
            if operation == "PutRecord":
                return self._put_record(body)
            if operation == "ListDeliveryStreams":
                names = sorted(self.firehose_streams)
                return {"DeliveryStreamNames": names, "HasMoreDeliveryStreams": False}
            if operation == "DescribeDeliveryStream":
                return self._describe(body)
            if operation == "CreateDeliveryStream" and self.create is not None:
                return self.create(body)
        elif service == "Kinesis_20131202":
            if operation == "PutRecords":
                return self._put_records(body)
            if operation == "PutRecord":
                return self._kinesis_put_record(body)
        raise ApiError(400, "UnknownOperationException", f"Operation {target} is not supported by the local twin.")

    # --- Firehose
    def _firehose_stream(self, body: dict[str, Any]) -> str:
        name = body.get("DeliveryStreamName")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "InvalidArgumentException", "DeliveryStreamName is required.")
        if name not in self.firehose_streams:
            raise ApiError(400, "ResourceNotFoundException", f"Firehose {name} under account 123456789012 not found.")
        return name

    def _put_record_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        stream = self._firehose_stream(body)
        records = body.get("Records")
        if not isinstance(records, list) or not 1 <= len(records) <= FIREHOSE_MAX_RECORDS:
            raise ApiError(400, "InvalidArgumentException", f"Records must hold 1 to {FIREHOSE_MAX_RECORDS} records.")
        datas = [_record_data(r, FIREHOSE_MAX_RECORD_BYTES, "Data") for r in records]
        if sum(len(d) for d in datas) > FIREHOSE_MAX_BATCH_BYTES:
            raise ApiError(400, "InvalidArgumentException", "The batch is larger than 4 MiB.")
        self._deliver([AcceptedRecord("firehose", stream, d) for d in datas])
        return {
            "FailedPutCount": 0,
            "Encrypted": False,
            "RequestResponses": [{"RecordId": _record_id()} for _ in datas],
        }

    def _put_record(self, body: dict[str, Any]) -> dict[str, Any]:
        stream = self._firehose_stream(body)
        record = body.get("Record")
        data = _record_data(record, FIREHOSE_MAX_RECORD_BYTES, "Data")
        self._deliver([AcceptedRecord("firehose", stream, data)])
        return {"RecordId": _record_id(), "Encrypted": False}

    def _describe(self, body: dict[str, Any]) -> dict[str, Any]:
        stream = self._firehose_stream(body)
        return {
            "DeliveryStreamDescription": {
                "DeliveryStreamName": stream,
                "DeliveryStreamARN": f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}",
                "DeliveryStreamStatus": "ACTIVE",
                "DeliveryStreamType": "DirectPut",
                "VersionId": "1",
                "Destinations": [],
                "HasMoreDestinations": False,
            }
        }

    # --- Kinesis
    def _kinesis_stream(self, body: dict[str, Any]) -> str:
        name = body.get("StreamName")
        arn = body.get("StreamARN")
        if not name and isinstance(arn, str) and "/" in arn:
            name = arn.rsplit("/", 1)[1]
        if not isinstance(name, str) or name not in self.kinesis_streams:
            raise ApiError(400, "ResourceNotFoundException", f"Stream {name} under account 123456789012 not found.")
        return name

    def _put_records(self, body: dict[str, Any]) -> dict[str, Any]:
        stream = self._kinesis_stream(body)
        records = body.get("Records")
        if not isinstance(records, list) or not 1 <= len(records) <= KINESIS_MAX_RECORDS:
            raise ApiError(400, "InvalidArgumentException", f"Records must hold 1 to {KINESIS_MAX_RECORDS} records.")
        accepted = [self._kinesis_record(stream, r) for r in records]
        if sum(len(a.data) + len((a.partition_key or "").encode()) for a in accepted) > KINESIS_MAX_BATCH_BYTES:
            raise ApiError(400, "InvalidArgumentException", "The batch is larger than 5 MiB.")
        self._deliver(accepted)
        return {
            "FailedRecordCount": 0,
            "Records": [{"SequenceNumber": _record_id(), "ShardId": "shardId-000000000000"} for _ in accepted],
        }

    def _kinesis_put_record(self, body: dict[str, Any]) -> dict[str, Any]:
        accepted = self._kinesis_record(self._kinesis_stream(body), body)
        self._deliver([accepted])
        return {"SequenceNumber": _record_id(), "ShardId": "shardId-000000000000"}

    @staticmethod
    def _kinesis_record(stream: str, record: object) -> AcceptedRecord:
        data = _record_data(record, KINESIS_MAX_RECORD_BYTES, "Data")
        key = record.get("PartitionKey") if isinstance(record, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 256:
            raise ApiError(400, "ValidationException", "PartitionKey must be 1 to 256 characters.")
        return AcceptedRecord("kinesis", stream, data, key)

    def _deliver(self, records: list[AcceptedRecord]) -> None:
        with self._lock:  # keep batches whole and in arrival order for the consumer
            self.accept(records)


class _Server(ThreadingHTTPServer):
    # A deep accept queue: bursts of concurrent producers wait instead of being reset.
    request_queue_size = 256


def _record_data(record: object, limit: int, key: str) -> bytes:
    raw = record.get(key) if isinstance(record, dict) else None
    if not isinstance(raw, str):
        raise ApiError(400, "SerializationException", f"Each record needs base64 {key}.")
    try:
        data = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ApiError(400, "SerializationException", f"{key} is not valid base64.") from exc
    if len(data) > limit:
        raise ApiError(400, "InvalidArgumentException", f"A record is larger than {limit} bytes.")
    return data


def _record_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def _make_handler(endpoint: StreamEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "stream-processor-local"
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:
                self._reply(413, {"__type": "InvalidArgumentException", "message": "Request body too large."})
                self.close_connection = True
                return
            raw = self.rfile.read(length)
            target = self.headers.get("X-Amz-Target", "")
            try:
                try:
                    body = json.loads(raw or b"{}")
                except (ValueError, RecursionError) as exc:  # nested too deeply is not JSON we read either
                    raise ApiError(400, "SerializationException", "The request body is not JSON.") from exc
                if not isinstance(body, dict):
                    raise ApiError(400, "SerializationException", "The request body must be a JSON object.")
                self._reply(200, endpoint.dispatch(target, body))
            except ApiError as exc:
                self._reply(exc.status, {"__type": exc.error_type, "message": exc.message})
            except Exception:  # never let one request take the server down
                logger.exception("Local endpoint failed on a request.")
                self._reply(500, {"__type": "InternalFailure", "message": "Internal failure."})

        def _reply(self, status: int, doc: dict[str, Any]) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("local endpoint: " + format, *args)

    return Handler


__all__ = ["AcceptedRecord", "ApiError", "StreamEndpoint"]
