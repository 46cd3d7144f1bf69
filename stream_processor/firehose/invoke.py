"""Invoke stage: one batch into the transform Lambda, in process, and its reply checked.

Input: a batch of ``SourceRecord`` and the transform handler. Output: an ``Invocation``: the reply
per record, or the Firehose error code that fails the whole batch (a raised exception, a missing,
duplicated or unknown recordId, an invalid result, bad base64, a response over 6 MB). The event is
shaped exactly like Firehose's (firehose-contract §2.1) and the reply is checked against §2.2-2.4.
A handler may return the response as JSON bytes, which the Python runtime passes on as they are.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from stream_processor.errors import ContractError
from stream_processor.firehose.reply_size import measure_reply
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from transform_lambda import accel
from transform_lambda.config import LAMBDA_RESPONSE_LIMIT_BYTES

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]

RESULTS: Final = frozenset({"Ok", "Dropped", "ProcessingFailed"})
# Firehose retries a failed invocation this many times by default (ProcessorParameter
# NumberOfRetries, firehose-contract §2.5).
NUMBER_OF_RETRIES_DEFAULT: Final = 3


@dataclass(frozen=True, slots=True)
class LocalLambdaContext:
    """The Lambda context attributes a handler (and Powertools) read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline_ms: int = 0

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Firehose's 5-minute invocation cap."""
        return max(0, self.deadline_ms - int(time.time() * 1000))


@dataclass(frozen=True, slots=True)
class RecordReply:
    """The transform's answer for one record."""

    result: str
    data: bytes | None
    partition_keys: dict[str, str] | None


@dataclass(slots=True)
class Invocation:
    """One batch's invocation: the records sent, and either the replies or the failure."""

    record_ids: list[str]
    records: list[SourceRecord]
    replies: dict[str, RecordReply] = field(default_factory=dict)
    error: ContractError | None = None
    attempts: int = 1
    response_bytes: int = 0


class RecordIds:
    """Firehose-like record ids: long decimal strings, unique within the run."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> str:
        """The next id."""
        return f"4954698668313554428650745793632162567570019247{next(self._counter):010d}"


def invoke_transform(
    handler: Handler,
    batch: Sequence[SourceRecord],
    settings: DeliverySettings,
    ids: RecordIds,
    number_of_retries: int = NUMBER_OF_RETRIES_DEFAULT,
    *,
    quiet: bool = True,
) -> Invocation:
    """Send a batch to the transform and check its reply; never raises for a broken reply.

    With ``quiet`` what the transform prints (its EMF metrics) is discarded, as CloudWatch would
    take it away from the console.
    """
    record_ids = [ids.next() for _ in batch]
    records: list[dict[str, Any]] = []
    for n, (rid, rec) in enumerate(zip(record_ids, batch, strict=True)):
        entry: dict[str, Any] = {
            "recordId": rid,
            "approximateArrivalTimestamp": rec.arrival_ms,
            "data": accel.b64encode(rec.data),
        }
        if settings.source_kinesis_stream is not None:
            entry["kinesisRecordMetadata"] = {
                "shardId": "shardId-000000000000",
                "partitionKey": rec.partition_key or "local",
                "approximateArrivalTimestamp": rec.arrival_ms,
                "sequenceNumber": rid,
                "subsequenceNumber": n,
            }
        records.append(entry)
    event: dict[str, Any] = {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": settings.delivery_stream_arn,
        "region": settings.region,
        "records": records,
    }
    if settings.source_kinesis_stream_arn is not None:
        event["sourceKinesisStreamArn"] = settings.source_kinesis_stream_arn
    invocation = Invocation(record_ids, list(batch))
    for attempt in range(1, number_of_retries + 2):
        invocation.attempts = attempt
        context = LocalLambdaContext(
            function_name=f"{settings.stream_name}-transform",
            invoked_function_arn=settings.lambda_arn,
            aws_request_id=str(uuid.uuid4()),
            deadline_ms=int(time.time() * 1000) + 300_000,
        )
        try:
            with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
                response = handler(event, context)
        except Exception as exc:
            logger.error("The transform raised (attempt %d): %s: %s", attempt, type(exc).__name__, exc)
            invocation.error = ContractError(
                "Lambda.FunctionError",
                "The Lambda function was successfully invoked but it returned an error result.",
            )
            continue
        try:
            invocation.replies, invocation.response_bytes = check_reply(response, record_ids)
            invocation.error = None
        except ContractError as exc:
            invocation.error = exc
        break
    if invocation.error is not None:
        logger.error("Transform broke the Firehose contract: %s", invocation.error)
    return invocation


def check_reply(response: object, record_ids: Sequence[str]) -> tuple[dict[str, RecordReply], int]:
    """Check a transform response against the Firehose contract; returns replies by recordId.

    Raises:
        ContractError: with the Firehose error code the batch fails with.
    """
    # The runtime hands a handler's bytes on unchanged (not a bytearray: that it fails to encode).
    encoded = response if isinstance(response, bytes) else None
    if encoded is not None:
        response = _parse_reply(encoded)
    measured = measure_reply(response)
    size = len(encoded) if encoded is not None else measured.size
    if size > LAMBDA_RESPONSE_LIMIT_BYTES:
        raise ContractError(
            "Lambda.ResponseSizeExceeded",
            f"response of {size} bytes is over the {LAMBDA_RESPONSE_LIMIT_BYTES}-byte limit",
        )
    entries = response.get("records") if isinstance(response, Mapping) else None
    if not isinstance(entries, list):
        raise ContractError("Lambda.InvalidResponse", "the response has no 'records' list")
    expected = set(record_ids)
    replies: dict[str, RecordReply] = {}
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ContractError("Lambda.InvalidResponse", "a response record is not an object")
        rid = entry.get("recordId")
        if not isinstance(rid, str) or rid not in expected:
            raise ContractError("Lambda.InvalidRecordId", f"recordId {str(rid)[:80]!r} was not in the request")
        if rid in replies:
            raise ContractError("Lambda.DuplicatedRecordId", f"recordId {rid} returned more than once")
        replies[rid] = _reply(rid, entry, measured.decoded[position] if measured.decoded else None)
    missing = expected.difference(replies)
    if missing:
        raise ContractError(
            "Lambda.MissingRecordId",
            f"One or more record Ids were not returned ({len(missing)} of {len(expected)}).",
        )
    return replies, size


def _parse_reply(encoded: bytes) -> object:
    """The JSON document of a response the handler returned as bytes: strict UTF-8 JSON (no byte
    order mark, no other encoding guessed, no NaN or Infinity), as a strict parser reads it.

    Raises:
        ContractError: ``Lambda.JsonProcessingException`` when it is not that.
    """
    try:
        return json.loads(encoded.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ContractError("Lambda.JsonProcessingException", "the response is not a JSON document") from exc


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _reply(rid: str, entry: Mapping[str, Any], decoded: bytes | None) -> RecordReply:
    """One entry's reply; ``decoded`` is its data when ``measure_reply`` already decoded it."""
    result = entry.get("result")
    if result not in RESULTS:
        raise ContractError(
            "Lambda.InvalidResult",
            f"record {rid}: result {str(result)[:40]!r} is not Ok, Dropped or ProcessingFailed",
        )
    data: bytes | None = None
    raw = entry.get("data")
    if result == "Ok":
        if not isinstance(raw, str):
            raise ContractError("Lambda.InvalidData", f"record {rid}: an Ok record needs base64 'data'")
        try:
            data = decoded if decoded is not None else base64.b64decode(raw, validate=True)
        except ValueError as exc:  # binascii.Error, or text that is not ASCII at all
            raise ContractError("Lambda.InvalidData", f"record {rid}: 'data' is not base64") from exc
    keys = None
    metadata = entry.get("metadata")
    if metadata is not None:
        partition = metadata.get("partitionKeys") if isinstance(metadata, Mapping) else None
        if not isinstance(partition, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in partition.items()
        ):
            raise ContractError(
                "Lambda.InvalidMetadata", f"record {rid}: metadata.partitionKeys must map strings to strings"
            )
        keys = dict(partition)
    return RecordReply(str(result), data, keys)


__all__ = [
    "Handler",
    "Invocation",
    "LocalLambdaContext",
    "RecordIds",
    "RecordReply",
    "check_reply",
    "invoke_transform",
]
