"""Parse stage, Lambda platform lines: START/END/REPORT/INIT_START/XRAY text and ``platform.*`` JSON.

Input: a message from a ``/aws/lambda/*`` log group (text log format) or a decoded JSON object of the
JSON log format. Output: request_id, trace_id, the REPORT metrics as typed columns and the other
``Key: value`` pairs in ``fields`` (snake_case keys, ``fields["type"]`` = the line's kind). Platform
lines are not application logs: ``level`` stays null.
Formats: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html and
https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final

from transform_lambda.parse.json_log import to_field_string
from transform_lambda.parse.numbers import INT_MAX, json_to_float, json_to_int, text_to_float, text_to_int
from transform_lambda.schema import ColumnValue

# First words of the text-format platform lines (the line's kind is that word).
PLATFORM_WORDS: Final = frozenset(
    {
        "START",
        "END",
        "REPORT",
        "INIT_START",
        "INIT_REPORT",
        "INIT_RUNTIME_DONE",
        "RESTORE_START",
        "RESTORE_REPORT",
        "XRAY",
        "EXTENSION",
        "TELEMETRY",
    }
)


def _int_column(high: int) -> Callable[[str], ColumnValue]:
    return lambda text: text_to_int(text, high)


# ``Key: value`` label (unit stripped) -> (column, reader). Other labels go to ``fields``.
_TEXT_COLUMNS: Final[dict[str, tuple[str, Callable[[str], ColumnValue]]]] = {
    "RequestId": ("request_id", str),
    "TraceId": ("trace_id", str),
    "Duration": ("duration_ms", text_to_float),
    "Billed Duration": ("billed_duration_ms", text_to_int),
    "Memory Size": ("memory_size_mb", _int_column(INT_MAX)),
    "Max Memory Used": ("max_memory_used_mb", _int_column(INT_MAX)),
    "Init Duration": ("init_duration_ms", text_to_float),
}
_START: Final = "START RequestId: "
_PER_REQUEST: Final = frozenset({"START", "END", "REPORT"})
_PER_REQUEST_STARTS: Final = tuple(f"{word} RequestId: " for word in sorted(_PER_REQUEST))
_UNITS: Final = ((" ms", "_ms"), (" MB", "_mb"))
# ``Key: value`` pairs separated by spaces instead of tabs (START; some INIT_REPORT spellings). A label
# is at most 8 capitalised words of at most 32 letters ("Runtime Version ARN" is the longest Lambda
# writes): unbounded, the look-ahead for the next label re-read a whole run of capitalised words at
# every space, quadratic in the line (32 KB took seconds); bounded, the work per character is too.
_LABEL: Final = r"[A-Z][A-Za-z]{0,31}(?: [A-Z][A-Za-z]{0,31}){0,7}"
_SPACED_PAIR: Final = re.compile(rf"({_LABEL}): (.*?)(?= {_LABEL}: |$)")
_FIRST_WORD: Final = re.compile(r"[A-Z_]{3,17}(?=[ \t\n]|$)")
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# "REPORT RequestId: <id>\tDuration: 9.14 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\t
# Max Memory Used: 71 MB\t[Init Duration: 180.83 ms\t]", the spelling every runtime writes.
_END_LINE: Final = re.compile(r"END RequestId: ([0-9A-Za-z-]{1,64})", re.ASCII)
_DECIMAL: Final = r"(\d{1,15}(?:\.\d{1,15})?)"
_REPORT_LINE: Final = re.compile(
    r"REPORT RequestId: ([0-9A-Za-z-]{1,64})\t"
    rf"Duration: {_DECIMAL} ms\tBilled Duration: (\d{{1,18}}) ms\t"
    r"Memory Size: (\d{1,9}) MB\tMax Memory Used: (\d{1,9}) MB"
    rf"(?:\tInit Duration: {_DECIMAL} ms)?\t?",
    re.ASCII,
)

# "XRAY TraceId: <id>\tSegmentId: <id>\tSampled: <true|false>\t", after a traced function's REPORT.
_XRAY_LINE: Final = re.compile(
    r"XRAY TraceId: ([0-9A-Za-z-]{1,64})\tSegmentId: ([0-9A-Za-z]{1,64})\tSampled: (true|false)\t?", re.ASCII
)

# platform.report / platform.initReport metrics (JSON log format) -> column and reader.
_MetricColumns = dict[str, tuple[str, Callable[[object], ColumnValue]]]
_REPORT_METRICS: Final[_MetricColumns] = {
    "durationMs": ("duration_ms", json_to_float),
    "billedDurationMs": ("billed_duration_ms", json_to_int),
    "memorySizeMB": ("memory_size_mb", lambda v: json_to_int(v, INT_MAX)),
    "maxMemoryUsedMB": ("max_memory_used_mb", lambda v: json_to_int(v, INT_MAX)),
    "initDurationMs": ("init_duration_ms", json_to_float),
}
_INIT_REPORT_METRICS: Final[_MetricColumns] = {"durationMs": ("init_duration_ms", json_to_float)}
_METRIC_COLUMNS: Final[dict[str, _MetricColumns]] = {
    "platform.report": _REPORT_METRICS,
    "platform.initReport": _INIT_REPORT_METRICS,
}


def platform_word(message: str) -> str | None:
    """The kind of a text-format platform line (``REPORT``), or None for any other line."""
    if message.startswith(_PER_REQUEST_STARTS):  # most platform lines: no pattern needed
        return message[: message.index(" ")]
    return _matched_word(message)


def _matched_word(message: str) -> str | None:
    match = _FIRST_WORD.match(message)
    if match is None:
        return None
    word = match.group()
    if word not in PLATFORM_WORDS:
        return None
    if word in _PER_REQUEST and not message.startswith(" RequestId: ", len(word)):
        return None  # "END of batch" printed by the function is not a platform line
    return word


def parse_platform_text(message: str, word: str) -> dict[str, ColumnValue]:
    """Parse a text platform event whose first word is ``word`` (a REPORT may carry an XRAY line)."""
    out: dict[str, ColumnValue] = {}
    fields: dict[str, str] = {"type": word}
    first, newline, rest = message.partition("\n")
    if word == "START" and first.startswith(_START):
        # "START RequestId: <id> Version: <version>": space separated, the most common line.
        request_id, _, version = first[len(_START) :].partition(" Version: ")
        if request_id:
            out["request_id"] = request_id
        if version:
            fields["version"] = version
    elif word == "END" and (end := _END_LINE.fullmatch(first)) is not None:
        out["request_id"] = end.group(1)  # what _read_pairs reads from "END RequestId: <id>"
    elif word != "REPORT" or not _read_report(first, out):
        _read_pairs(first[len(word) :], out, fields)
    if newline:
        for line in rest.split("\n"):
            if line.startswith("XRAY ") and not _read_xray(line, out, fields):
                _read_pairs(line[5:], out, fields)
    out["fields"] = fields
    return out


def parse_platform_json(kind: str, doc: dict[str, object]) -> dict[str, ColumnValue]:
    """Parse a JSON-format platform event (``{"time", "type": "platform.*", "record": {...}}``)."""
    out: dict[str, ColumnValue] = {}
    fields: dict[str, str] = {"type": kind}
    for key, value in doc.items():
        if key in ("time", "type") or value is None:
            continue  # time is the event's own timestamp (event_time)
        if key == "record" and isinstance(value, dict):
            _read_record(kind, value, out, fields)
        else:
            fields[snake_case(key)] = to_field_string(value)
    out["fields"] = fields
    return out


def _read_record(kind: str, record: dict[str, object], out: dict[str, ColumnValue], fields: dict[str, str]) -> None:
    for key, value in record.items():
        if value is None:
            continue
        if key == "requestId" and isinstance(value, str) and value:
            out["request_id"] = value
        elif key == "metrics" and isinstance(value, dict):
            columns = _METRIC_COLUMNS.get(kind, {})
            for name, metric in value.items():
                column = columns.get(name)
                number = column[1](metric) if column else None
                if column and number is not None:
                    out[column[0]] = number
                elif metric is not None:
                    fields[snake_case(name)] = to_field_string(metric)
        elif key == "tracing" and isinstance(value, dict):
            trace = value.get("value")
            if isinstance(trace, str) and (root := _xray_root(trace)):
                out["trace_id"] = root
            span = value.get("spanId")
            if isinstance(span, str):
                fields["span_id"] = span
        else:
            fields[snake_case(key)] = to_field_string(value)


def _xray_root(header: str) -> str | None:
    # X-Amzn-Trace-Id: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    for part in header.split(";"):
        if part.startswith("Root="):
            return part[5:] or None
    return None


def _read_report(line: str, out: dict[str, ColumnValue]) -> bool:
    """Read the usual REPORT line in one match (a third of platform lines), with exactly what
    ``_read_pairs`` would give it: digit counts keep every number inside its column. Any other
    spelling (SnapStart, timeouts, odd values) returns False for ``_read_pairs``."""
    match = _REPORT_LINE.fullmatch(line)
    if match is None:
        return False
    request_id, duration, billed, memory, max_memory, init = match.groups()
    out["request_id"] = request_id
    out["duration_ms"] = float(duration)
    out["billed_duration_ms"] = int(billed)
    out["memory_size_mb"] = int(memory)
    out["max_memory_used_mb"] = int(max_memory)
    if init is not None:
        out["init_duration_ms"] = float(init)
    return True


def _read_xray(line: str, out: dict[str, ColumnValue], fields: dict[str, str]) -> bool:
    """Read the usual XRAY line of a traced function's REPORT in one match, with exactly what
    ``_read_pairs`` would give it; False for any other spelling, or when a trace id is already read."""
    match = _XRAY_LINE.fullmatch(line)
    if match is None or "trace_id" in out:
        return False
    out["trace_id"], fields["segment_id"], fields["sampled"] = match.groups()
    return True


def _read_pairs(text: str, out: dict[str, ColumnValue], fields: dict[str, str]) -> None:
    for chunk in text.split("\t"):
        label, sep, value = chunk.strip().partition(": ")
        if not sep:
            continue
        if ": " in value:  # several pairs separated by spaces, not tabs
            for match in _SPACED_PAIR.finditer(chunk.strip()):
                _put_pair(match.group(1), match.group(2).strip(), out, fields)
        else:
            _put_pair(label, value, out, fields)


def _put_pair(label: str, value: str, out: dict[str, ColumnValue], fields: dict[str, str]) -> None:
    suffix = ""
    for unit, unit_suffix in _UNITS:
        if value.endswith(unit):
            value, suffix = value[: -len(unit)], unit_suffix
            break
    column = _TEXT_COLUMNS.get(label)
    if column is not None and column[0] not in out:
        typed = column[1](value)
        if typed is not None and typed != "":
            out[column[0]] = typed
            return
    if value:
        fields[snake_case(label) + suffix] = value


@lru_cache(maxsize=256)
def snake_case(label: str) -> str:
    """``"Runtime Version ARN"`` -> ``runtime_version_arn``; ``"memorySizeMB"`` -> ``memory_size_mb``."""
    return _CAMEL_BOUNDARY.sub("_", label).replace(" ", "_").lower()


__all__ = ["PLATFORM_WORDS", "parse_platform_json", "parse_platform_text", "platform_word", "snake_case"]
