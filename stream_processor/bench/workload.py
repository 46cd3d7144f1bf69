"""Bench workload: deterministic Firehose transformation events of a given request size.

Input: a request size in bytes and a seed. Output: a ``Workload`` (the event as the Lambda runtime
hands it to the handler, the request JSON bytes, and what it holds). Every record is one CloudWatch
Logs subscription payload from ``TrafficGenerator`` (default mix, gzip level 6), so the same
(size, seed) always gives the same bytes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Final

from stream_processor.generate import DEFAULT_START_MS, TrafficGenerator, record_bytes_of
from stream_processor.settings import DeliverySettings

MIB: Final = 1 << 20
_RECORD_ID_PREFIX: Final = "4954698668313554428650745793632162567570019247"
# Bytes of the event around its records (invocationId, ARN, region, brackets): measured, not guessed.
_EVENT_FRAME: Final = 256


@dataclass(frozen=True, slots=True)
class Workload:
    """One Firehose transformation event and its vital statistics."""

    event: dict[str, Any]
    request_bytes: int
    records: int
    log_events: int
    gzip_bytes: int
    payload_bytes: int


def firehose_event(request_bytes: int, seed: int = 1) -> Workload:
    """The largest event of whole records from ``seed``'s traffic whose request JSON fits ``request_bytes``."""
    settings = DeliverySettings()
    records: list[dict[str, Any]] = []
    used = _EVENT_FRAME
    log_events = gzip_bytes = payload_bytes = 0
    for n, payload in enumerate(TrafficGenerator(seed).payloads()):
        gz = record_bytes_of(payload)
        record = {
            "recordId": f"{_RECORD_ID_PREFIX}{n:010d}",
            "approximateArrivalTimestamp": DEFAULT_START_MS + n,
            "data": base64.b64encode(gz).decode("ascii"),
        }
        size = len(json.dumps(record)) + 2
        if used + size > request_bytes and records:
            break
        records.append(record)
        used += size
        gzip_bytes += len(gz)
        payload_bytes += len(json.dumps(payload, separators=(",", ":")).encode())
        if payload["messageType"] == "DATA_MESSAGE":
            log_events += len(payload["logEvents"])
    event = {
        "invocationId": "00000000-0000-4000-8000-000000000000",
        "deliveryStreamArn": settings.delivery_stream_arn,
        "region": settings.region,
        "records": records,
    }
    request = json.dumps(event).encode()
    return Workload(event, len(request), len(records), log_events, gzip_bytes, payload_bytes)


__all__ = ["MIB", "Workload", "firehose_event"]
