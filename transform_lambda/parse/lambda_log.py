"""Parse stage, Lambda function logs: platform lines plus the runtimes' application lines.

Input: a message from a ``/aws/lambda/*`` log group. Output: platform lines via ``lambda_platform``;
JSON application logs (the JSON log format, Powertools) via ``json_log``; the Python runtime's
``[LEVEL]\\t<time>\\t<request id>\\t<msg>`` and the Node runtime's ``<time>\\t<request id>\\t<LEVEL>\\t<msg>``
text lines to level + request_id; anything else (``print`` output) to plain-text level detection.
Never raises ParseError: every line is valid Lambda output.
"""

from __future__ import annotations

from typing import Final

from transform_lambda.errors import ParseError
from transform_lambda.parse.json_log import columns_from_json, load_json_object
from transform_lambda.parse.lambda_platform import parse_platform_json, parse_platform_text, platform_word
from transform_lambda.parse.levels import normalize_level
from transform_lambda.parse.plain import parse_plain
from transform_lambda.schema import ColumnValue

_PLATFORM_FIRST: Final = frozenset("SERIXT")
# The Python runtime's warning for an unhandled exception ("LAMBDA_WARNING: Unhandled exception...").
_LAMBDA_WARNING: Final = "LAMBDA_WARNING"
_TIMEOUT: Final = "Task timed out after"
_NO_REQUEST: Final = "undefined"  # the Node runtime's request id outside an invocation


def parse_lambda(message: str) -> dict[str, ColumnValue]:
    """Parse one Lambda log event of any shape (no ParseError: unknown lines are plain text)."""
    first = message[:1]
    if first == "{":
        try:
            doc = load_json_object(message)
        except ParseError:
            return parse_plain(message)  # e.g. print(some_dict): Python repr, not JSON
        kind = doc.get("type")
        if isinstance(kind, str) and kind.startswith("platform."):
            return parse_platform_json(kind, doc)
        return columns_from_json(doc, {})
    if first in _PLATFORM_FIRST and (word := platform_word(message)) is not None:
        return parse_platform_text(message, word)
    if first == "[":
        return _python_line(message)
    if first.isdigit():
        return _node_line(message)
    if message.startswith(_LAMBDA_WARNING):
        return {"level": "WARN"}
    return parse_plain(message)


def _python_line(message: str) -> dict[str, ColumnValue]:
    # "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s" (awslambdaric).
    parts = message.split("\t", 3)
    if len(parts) == 4 and parts[0].endswith("]") and _is_iso_time(parts[1]):
        out: dict[str, ColumnValue] = {}
        level = normalize_level(parts[0][1:-1])
        if level is not None:
            out["level"] = level
        if _is_request_id(parts[2]):
            out["request_id"] = parts[2]
        return out
    return parse_plain(message)  # "[ERROR] Runtime.ImportModuleError: ..." and other bracket lines


def _node_line(message: str) -> dict[str, ColumnValue]:
    # "<ISO time>\t<request id>\t<LEVEL>\t<message>" (Node runtime console.*), and the runtime's
    # "<ISO time> <request id> Task timed out after 3.00 seconds" (space separated).
    parts = message.split("\t", 3)
    out: dict[str, ColumnValue] = {}
    if len(parts) >= 3 and _is_iso_time(parts[0]):
        if _is_request_id(parts[1]):
            out["request_id"] = parts[1]
        level = normalize_level(parts[2])
        if level is not None or parts[1] == _NO_REQUEST or "request_id" in out:
            if level is not None:
                out["level"] = level
            return out
    parts = message.split(" ", 2)
    if len(parts) == 3 and _is_iso_time(parts[0]) and _is_request_id(parts[1]):
        out = {"request_id": parts[1]}
        if parts[2].startswith(_TIMEOUT):
            out["level"] = "ERROR"
        else:
            out.update(parse_plain(parts[2]))
        return out
    return parse_plain(message)


def _is_iso_time(text: str) -> bool:
    # 2024-06-01T12:00:00.123Z
    return len(text) >= 20 and text[4] == "-" and text[10] == "T" and text[-1] == "Z" and text[:4].isdigit()


def _is_request_id(text: str) -> bool:
    # A UUID: 8-4-4-4-12 hex digits.
    return len(text) == 36 and text[8] == "-" and text[13] == "-" and text[18] == "-" and text[23] == "-"


__all__ = ["parse_lambda"]
