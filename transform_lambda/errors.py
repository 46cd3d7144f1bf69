"""Errors of the transform: typed, per stage, with a code from a short fixed set.

Input: a low-level failure where it happens. Output: an exception that ``batch`` turns into a
``ProcessingFailed`` result for one record (never a crashed batch).

    Exception
     └── RecordError(stage, code, record_id)   one record cannot be transformed
          ├── DecodeError                        base64 / gzip / JSON / envelope
          ├── ParseError                         a parser gave up on one log event
          └── EncodeError                        rows cannot be serialized
"""

from __future__ import annotations

from typing import Final

# The codes that may appear in metrics and error documents. Never free text.
DECODE_CODES: Final = frozenset(
    {
        "missing_data",
        "invalid_base64",
        "not_gzip",
        "invalid_gzip",
        "truncated_gzip",
        "too_large",
        "invalid_utf8",
        "invalid_json",
        "not_an_object",
        "unknown_message_type",
        "invalid_envelope",
        "invalid_log_events",
        "duplicate_record_id",
        "invalid_kpl",
    }
)


class RecordError(Exception):
    """One record could not be transformed; carries the stage and a fixed code."""

    stage = "record"

    def __init__(self, code: str, detail: str = "", record_id: str | None = None) -> None:
        super().__init__(f"{self.stage}: {code}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.detail = detail
        self.record_id = record_id


class DecodeError(RecordError):
    """The record is not a readable CloudWatch Logs subscription payload."""

    stage = "decode"


class ParseError(RecordError):
    """A parser could not read one log event (the row still keeps its raw message)."""

    stage = "parse"


class EncodeError(RecordError):
    """Rows could not be serialized."""

    stage = "encode"


__all__ = ["DECODE_CODES", "DecodeError", "EncodeError", "ParseError", "RecordError"]
