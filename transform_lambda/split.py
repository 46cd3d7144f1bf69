"""Split stage: a record whose rows alone exceed the response budget becomes smaller CloudWatch Logs
payloads, cut at log-event boundaries, to be re-ingested.

Input: the record's raw data and a byte target for one chunk's response entry. Output: gzip payloads
with the original envelope (owner, group, stream, filters, policyLevel), the source detected for the
whole record, and a share of the events each, in order. A single log event whose row alone cannot
fit any response fails the record.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any, Final

from transform_lambda.config import TransformConfig
from transform_lambda.decode import CONTROL_MESSAGE, SOURCE_HINT_KEY, LogEvent, Payload, decode_data
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.errors import RecordError
from transform_lambda.limits import FIREHOSE_MAX_RECORD_BYTES
from transform_lambda.transform import transform_payload

# CloudWatch Logs compresses subscription payloads with gzip level 6.
_GZIP_LEVEL: Final = 6


def split_record(
    raw: bytes, config: TransformConfig, target_bytes: int, max_event_bytes: int, arrival_time: str | None
) -> tuple[list[bytes], int]:
    """Cut a record into gzip payloads whose rows each take at most ``target_bytes`` of response.

    Rows are sized as the record's own rows were, with its ``arrival_time``: sized without it, an event
    whose row only fits without it would come back whole, be too large again, and go round forever.
    Returns the payloads and how many log events they carry.

    Raises:
        RecordError: ``event_too_large`` when one event's row exceeds ``max_event_bytes`` of response.
        DecodeError: the record cannot be decoded (it was decoded once already, so only on a bug).
    """
    chunks: list[bytes] = []
    events = 0
    for payload in decode_data(raw, config.max_decompressed_bytes):
        if payload.message_type == CONTROL_MESSAGE or not payload.log_events:
            continue
        shaped = transform_payload(payload, arrival_time, config)
        sizes = [_b64_len(len(encode_shaped_rows([row]))) for row in shaped.rows]
        for start, end in _spans(sizes, target_bytes, max_event_bytes):
            chunks.extend(_payload_chunks(payload, payload.log_events[start:end], shaped.source))
            events += end - start
    return chunks, events


def _spans(sizes: list[int], target: int, max_event: int) -> Iterator[tuple[int, int]]:
    start, used = 0, 0
    for index, size in enumerate(sizes):
        if size > max_event:
            raise RecordError("event_too_large", f"one log event needs {size} bytes of response")
        if index > start and used + size > target:
            yield start, index
            start, used = index, 0
        used += size
    if start < len(sizes):
        yield start, len(sizes)


def _payload_chunks(payload: Payload, events: tuple[LogEvent, ...], source: str) -> list[bytes]:
    document = payload_document(payload, events, source_hint=source)
    body = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), _GZIP_LEVEL)
    if len(body) <= FIREHOSE_MAX_RECORD_BYTES or len(events) == 1:
        return [body]
    half = len(events) // 2  # still over a record's size limit: halve until each part fits
    return _payload_chunks(payload, events[:half], source) + _payload_chunks(payload, events[half:], source)


def payload_document(
    payload: Payload, events: tuple[LogEvent, ...] | None = None, *, source_hint: str | None = None
) -> dict[str, Any]:
    """A decoded payload (with all its events, or ``events``) back in its wire shape; a split chunk
    also carries the source detected for its whole record (``decode.SOURCE_HINT_KEY``)."""
    if events is None:
        events = payload.log_events
    doc: dict[str, Any] = {
        "messageType": payload.message_type,
        "owner": payload.owner,
        "logGroup": payload.log_group,
        "logStream": payload.log_stream,
        "subscriptionFilters": list(payload.subscription_filters),
        "logEvents": [_event(e) for e in events],
    }
    if payload.policy_level is not None:
        doc["policyLevel"] = payload.policy_level
    hint = source_hint if source_hint is not None else payload.source_hint
    if hint is not None:
        doc[SOURCE_HINT_KEY] = hint
    return doc


def _event(event: LogEvent) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": event.id, "timestamp": event.timestamp, "message": event.message}
    if event.extracted_fields:
        doc["extractedFields"] = event.extracted_fields
    return doc


def _b64_len(n: int) -> int:
    return (n + 2) // 3 * 4


__all__ = ["payload_document", "split_record"]
