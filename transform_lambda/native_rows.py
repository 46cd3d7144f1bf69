"""Shape + encode stages, native: a whole payload's rows written in C, when the build has the C.

Input: a DATA_MESSAGE ``Payload``, its detected source and parser, and the record's arrival time.
Output: the payload's NDJSON, the very bytes ``transform.shape_events`` and
``encode.encode_shaped_rows`` write for it; or None, and the Python path decides: always without the
compiled build (``make package NATIVE=1``, which alone ships ``transform_lambda._native_rows``), for a
source the C does not write (only default-format VPC Flow Logs so far), and for any payload holding
an event that is not the usual case (a parse error, a line of another shape, an extracted field).
"""

from __future__ import annotations

from types import ModuleType

from transform_lambda.parse import Parser
from transform_lambda.parse.vpc_flow import parse_vpc_flow
from transform_lambda.payload import Payload

_native: ModuleType | None
try:
    from transform_lambda import _native_rows as _native
except ImportError:  # no compiled build (or switched off): the Python path writes every row
    _native = None


def available() -> bool:
    """Whether the C row writers are loaded."""
    return _native is not None


def payload_ndjson(payload: Payload, source: str, parser: Parser, arrival_time: str | None) -> bytes | None:
    """The payload's rows as the Python path writes them, written in C; None to leave it to Python."""
    if _native is None or arrival_time is None or parser is not parse_vpc_flow:
        return None
    written: bytes | None = _native.vpc_flow_rows(
        payload.log_events, payload.owner, payload.log_group, payload.log_stream, source, arrival_time
    )
    return written


__all__ = ["available", "payload_ndjson"]
