"""Shape + encode stages, native: a payload's rows written in C, when the build has the C.

Input: a DATA_MESSAGE ``Payload``, its detected source and parser, and the record's arrival time.
Output: the payload's NDJSON, the very bytes ``transform.shape_events`` and
``encode.encode_shaped_rows`` write for it, with how many rows carry a parse error; or None, and the
Python path writes the payload. The C (``transform_lambda._native_rows``, shipped by the compiled
build only: ``make package``) writes the rows of the events it knows to be the usual case
of default-format VPC Flow Logs, Lambda function logs, API Gateway's JSON access logs, JSON logs
(flat objects) and plain text, and hands every other event back; the Python path writes those rows,
in one call per payload, and they go in between the C's.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from transform_lambda.encode import encode_shaped_lines
from transform_lambda.parse import Parser
from transform_lambda.parse.apigateway import parse_apigateway
from transform_lambda.parse.json_log import parse_json_log
from transform_lambda.parse.lambda_log import parse_lambda
from transform_lambda.parse.plain import parse_plain
from transform_lambda.parse.vpc_flow import parse_vpc_flow
from transform_lambda.payload import LogEvent, Payload
from transform_lambda.transform import shape_events

_native: ModuleType | None
try:
    from transform_lambda import _native_rows as _native
except ImportError:  # no compiled build (or switched off): the Python path writes every row
    _native = None

# The parsers the C writes rows for, and its function for each.
_WRITERS: Final[dict[Parser, str]] = {
    parse_vpc_flow: "vpc_flow_rows",
    parse_lambda: "lambda_rows",
    parse_apigateway: "apigateway_rows",
    parse_json_log: "json_rows",
    parse_plain: "text_rows",
}


def use(module: ModuleType | None) -> None:
    """Write rows with this module's C writers from now on (the local twin's build of
    ``_native_rows.c`` for the tooling's Python, ``stream_processor.native_twin``), or with none."""
    global _native
    _native = module


def available() -> bool:
    """Whether the C row writers are loaded."""
    return _native is not None


def payload_ndjson(payload: Payload, source: str, parser: Parser, arrival_time: str | None) -> tuple[bytes, int] | None:
    """The payload's rows as the Python path writes them, and how many carry a parse error; the C
    writes the usual ones. None to leave the whole payload to the Python path."""
    name = _WRITERS.get(parser)
    if _native is None or arrival_time is None or name is None:
        return None
    written: tuple[list[bytes], list[LogEvent]] | None = getattr(_native, name)(
        payload.log_events, payload.owner, payload.log_group, payload.log_stream, source, arrival_time
    )
    if written is None:
        return None
    chunks, missing = written
    if not missing:
        return chunks[0], 0
    # The rows of the events handed back go between the chunks; each chunk after the first starts
    # with the newline that ends the row before it.
    shaped = shape_events(payload, source, parser, arrival_time, missing)
    pieces = [b""] * (2 * len(missing) + 1)
    pieces[::2] = chunks
    pieces[1::2] = encode_shaped_lines(shaped.rows)
    return b"".join(pieces), shaped.parse_errors


__all__ = ["available", "payload_ndjson", "use"]
