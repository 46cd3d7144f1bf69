"""Error output: the documents Firehose writes under ``ErrorOutputPrefix`` for records it could not
deliver, one JSON document per line.

Input: a failed record and why. Output: a ``processing-failed`` document (firehose-contract §2.6)
or a ``format-conversion-failed`` document (§4), as dicts ready to serialize.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any, Final

from stream_processor.settings import DeliverySettings

PROCESSING_FAILED: Final = "processing-failed"
FORMAT_CONVERSION_FAILED: Final = "format-conversion-failed"


def processing_failed_document(
    raw_data: bytes,
    arrival_ms: int,
    error_code: str,
    error_message: str,
    attempts_made: int,
    ending_ms: int,
    settings: DeliverySettings,
) -> dict[str, Any]:
    """A ``processing-failed`` document; ``rawData`` is the original record, base64."""
    return {
        "attemptsMade": attempts_made,
        "arrivalTimestamp": arrival_ms,
        "errorCode": error_code,
        "errorMessage": error_message,
        "attemptEndingTimestamp": ending_ms,
        "rawData": base64.b64encode(raw_data).decode("ascii"),
        "lambdaArn": settings.lambda_arn,
    }


def format_conversion_failed_document(
    transformed_data: bytes,
    arrival_ms: int,
    error_code: str,
    error_message: str,
    ending_ms: int,
    settings: DeliverySettings,
) -> dict[str, Any]:
    """A ``format-conversion-failed`` document; ``rawData`` is the record as the transform returned it.

    Both spellings of the error keys appear in AWS's documentation (``lastErrorCode`` on older pages,
    ``ErrorCode`` on newer ones); readers should accept either, and redrive does.
    """
    return {
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "lastErrorCode": error_code,
        "lastErrorMessage": error_message,
        "attemptEndingTimestamp": ending_ms,
        "rawData": base64.b64encode(transformed_data).decode("ascii"),
        "sequenceNumber": None,
        "subSequenceNumber": None,
        "dataCatalogTable": {
            "catalogId": settings.account_id,
            "databaseName": settings.database,
            "tableName": settings.table,
            "region": settings.region,
            "versionId": "LATEST",
            "catalogArn": f"arn:aws:glue:{settings.region}:{settings.account_id}:catalog",
        },
    }


def encode_documents(documents: Iterable[dict[str, Any]]) -> bytes:
    """Newline-separated JSON, as the error objects are written."""
    return b"".join(json.dumps(d, separators=(",", ":")).encode() + b"\n" for d in documents)


__all__ = [
    "FORMAT_CONVERSION_FAILED",
    "PROCESSING_FAILED",
    "encode_documents",
    "format_conversion_failed_document",
    "processing_failed_document",
]
