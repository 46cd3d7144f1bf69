"""Decode stage: one Firehose record's data into CloudWatch Logs payloads.

Input: the record's ``data`` (base64 text). Output: a tuple of ``Payload`` (usually one; a record
holding several concatenated JSON documents, gzip members or KPL user records yields several).
base64 -> gzip/zlib inflate (bounded) or plain JSON -> envelope checks (firehose-contract §1).
The usual message is read by the C payload reader when a build has it (``_native_payload.c``), else
by msgspec (``payload_structs``); both build what the standard path builds, which reads the rest.
"""

from __future__ import annotations

import binascii
import json
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

from transform_lambda import accel
from transform_lambda.errors import DecodeError
from transform_lambda.kpl import deaggregate, is_aggregated
from transform_lambda.payload import CONTROL_MESSAGE, DATA_MESSAGE, SOURCE_HINT_KEY, LogEvent, Payload

_GZIP_MAGIC: Final = b"\x1f\x8b"
_GZIP_RESERVED_FLAGS: Final = 0xE0  # FLG bits 5-7 of a gzip member header
# zlib streams start with 0x78 (32K window, deflate); Powertools' test events use zlib.
_ZLIB_FIRST: Final = 0x78
_native: ModuleType | None
try:  # the C payload reader: the compiled build's (transform_lambda.native), or the twin's (use_native)
    from transform_lambda import _native_payload as _native
except ImportError:  # decode's Python paths read every payload
    _native = None

_JSON_DECODER: Final = json.JSONDecoder()
# Inflate in steps of this many output bytes so the cap is checked as output grows.
_INFLATE_STEP: Final = 1 << 20
_MESSAGE_TYPES: Final = frozenset({DATA_MESSAGE, CONTROL_MESSAGE})
# Envelope keys decode reads; a payload with only these (and plain values elsewhere) takes the fast path.
_ENVELOPE_KEYS: Final = frozenset(
    {"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents", "policyLevel"}
) | {SOURCE_HINT_KEY}
_EVENT_KEYS: Final = frozenset({"id", "timestamp", "message", "extractedFields"})


def decode_record(data: object, max_decompressed_bytes: int) -> tuple[Payload, ...]:
    """Turn a record's base64 ``data`` into its payloads.

    Raises:
        DecodeError: with a code from ``errors.DECODE_CODES``.
    """
    if not isinstance(data, str) or not data:
        raise DecodeError("missing_data")
    try:
        raw = accel.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError("invalid_base64") from exc
    return decode_data(raw, max_decompressed_bytes)


def decode_data(raw: bytes, max_decompressed_bytes: int, *, kpl: bool = True) -> tuple[Payload, ...]:
    """Turn a record's raw bytes (gzip, zlib, plain JSON or a KPL aggregate of those) into its payloads.

    Raises:
        DecodeError: with a code from ``errors.DECODE_CODES``.
    """
    if not raw:
        raise DecodeError("missing_data")
    if kpl and is_aggregated(raw):
        # KPL never nests aggregates; user records are decoded without looking for another one.
        return tuple(
            payload
            for user_record in deaggregate(bytes(raw))
            for payload in decode_data(user_record, max_decompressed_bytes, kpl=False)
        )
    body = inflate(raw, max_decompressed_bytes) if _is_compressed(raw) else _plain_json(raw)
    fast = _native.read_payload(body, Payload, LogEvent) if _native is not None else None  # C: the usual message
    if fast is None:
        fast = accel.read_payload(body)  # msgspec: typed as it parses
    if fast is None:
        fast = _plain_payload(accel.loads(body))  # orjson, then a look at each value
    if fast is not None:
        return (fast,)
    return tuple(_to_payload(doc) for doc in _json_documents(_to_text(body)))


def use_native(module: ModuleType | None) -> None:
    """Read usual payloads with this module's C reader from now on (the local twin's build of
    ``_native_payload.c``, ``stream_processor.native_twin``), or with Python only (None)."""
    global _native
    _native = module


def inflate(raw: bytes, limit: int) -> bytes | bytearray:
    """Inflate gzip (one or more members) or zlib data, refusing more than ``limit`` bytes.

    Output grows in bounded steps into one buffer, so memory stays near the output size (a bomb is
    refused after at most ``limit`` bytes, never allocated whole). The usual record, one member that
    inflates in one step, is returned as the bytes inflated, without copying them into the buffer.

    Raises:
        DecodeError: ``invalid_gzip``, ``truncated_gzip`` or ``too_large``.
    """
    fast = accel.fast_decompressobj
    if fast is not None:
        try:
            return _inflate(raw, limit, fast)
        except DecodeError:
            pass  # zlib decides which error it is
        except accel.INFLATE_ERRORS:
            pass
    return _inflate(raw, limit, _zlib_decompressobj)


def _zlib_decompressobj(wbits: int) -> accel.Inflater:
    return zlib.decompressobj(wbits=wbits)


def _inflate(raw: bytes, limit: int, decompressobj: Callable[[int], accel.Inflater]) -> bytes | bytearray:
    out = bytearray()
    rest = raw
    while rest:
        if rest[3:4] and rest[3] & _GZIP_RESERVED_FLAGS and rest.startswith(_GZIP_MAGIC):
            # RFC 1952: a reserved FLG bit must be an error. zlib says so; isal would read on.
            raise DecodeError("invalid_gzip", "reserved gzip header flags set")
        inflater = decompressobj(zlib.MAX_WBITS | 32)
        pending = rest
        try:
            while True:
                chunk = inflater.decompress(pending, _INFLATE_STEP)
                if not out and inflater.eof and not inflater.unused_data and len(chunk) <= limit:
                    return chunk  # the last member, whole in one step, and nothing before it
                out += chunk
                if len(out) > limit:
                    raise DecodeError("too_large", f"inflates past {limit} bytes")
                pending = inflater.unconsumed_tail
                # A full step may leave output inside zlib even when all input is consumed.
                if inflater.eof or (not pending and len(chunk) < _INFLATE_STEP):
                    break
        except zlib.error as exc:
            raise DecodeError("invalid_gzip") from exc
        if not inflater.eof:
            raise DecodeError("truncated_gzip")
        rest = inflater.unused_data
        if rest and not rest.startswith(_GZIP_MAGIC):
            if rest.strip(b"\x00"):
                raise DecodeError("invalid_gzip", "trailing bytes after the compressed stream")
            break
    return out


def plain_envelope(doc: Any) -> bool:
    """Whether a document ``accel.loads`` read has an envelope ``_to_payload`` surely accepts as it
    stands: only the keys decode reads, each of its exact type (the events are not looked at)."""
    if type(doc) is not dict or not _ENVELOPE_KEYS.issuperset(doc):
        return False
    message_type = doc.get("messageType")
    group, stream = doc.get("logGroup", ""), doc.get("logStream", "")
    filters = doc.get("subscriptionFilters", [])
    policy_level = doc.get("policyLevel")
    hint = doc.get(SOURCE_HINT_KEY)
    return not (
        type(message_type) is not str  # a list or object cannot even be looked up in a set
        or message_type not in _MESSAGE_TYPES
        or (hint is not None and type(hint) is not str)
        or type(doc.get("owner", "")) is not str
        or type(group) is not str
        or type(stream) is not str
        or type(filters) is not list
        or not all(type(f) is str for f in filters)
        or (policy_level is not None and type(policy_level) is not str)
        or type(doc.get("logEvents")) is not list
        or (message_type == DATA_MESSAGE and (not group or not stream))
    )


def _plain_payload(doc: Any) -> Payload | None:
    """The payload of a document ``accel.loads`` read, when it is plain enough that ``_to_payload``
    would surely build the same from ``json.loads``' document; else None (the standard path decides).
    """
    if not plain_envelope(doc):
        return None
    raw_events = doc["logEvents"]
    events: list[LogEvent] = []
    append = events.append
    for raw in raw_events:
        if type(raw) is not dict:
            return None
        message = raw.get("message")
        event_id = raw.get("id", "")
        ts = raw.get("timestamp")
        if type(message) is not str or type(event_id) is not str or type(ts) is not int:
            return None
        if len(raw) == 3 and "id" in raw:  # exactly id, timestamp and message
            append(LogEvent(event_id, ts, message))
            continue
        if not _EVENT_KEYS.issuperset(raw):
            return None
        extracted = raw.get("extractedFields")
        fields: dict[str, str] | None = None
        if extracted is not None:
            if type(extracted) is not dict or not all(type(v) is str for v in extracted.values()):
                return None
            fields = dict(extracted) or None
        append(LogEvent(event_id, ts, message, fields))
    return Payload(
        doc["messageType"],
        doc.get("owner", ""),
        doc.get("logGroup", ""),
        doc.get("logStream", ""),
        tuple(doc.get("subscriptionFilters", [])),
        tuple(events),
        doc.get("policyLevel"),
        doc.get(SOURCE_HINT_KEY),
    )


def _is_compressed(raw: bytes) -> bool:
    return raw.startswith(_GZIP_MAGIC) or (len(raw) > 1 and raw[0] == _ZLIB_FIRST and (raw[0] * 256 + raw[1]) % 31 == 0)


def _plain_json(raw: bytes) -> bytes:
    # Firehose's own decompression (or a producer) may hand us the JSON already inflated.
    if raw.lstrip()[:1] == b"{":
        return raw
    raise DecodeError("not_gzip", "neither gzip, zlib nor a JSON object")


def _to_text(raw: bytes | bytearray) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("invalid_utf8") from exc


def _json_documents(text: str) -> list[object]:
    try:
        return [json.loads(text)]
    except RecursionError as exc:
        raise DecodeError("invalid_json", "nested too deeply") from exc
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise DecodeError("invalid_json") from exc
    except ValueError as exc:  # an integer past sys.get_int_max_str_digits() (4300 by default)
        raise DecodeError("invalid_json", "an integer too long to read") from exc
    # Several JSON documents back to back ({...}{...} or newline separated).
    docs: list[object] = []
    pos, end = 0, len(text)
    try:
        while pos < end:
            while pos < end and text[pos].isspace():
                pos += 1
            if pos == end:
                break
            doc, pos = _JSON_DECODER.raw_decode(text, pos)
            docs.append(doc)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or an integer too long to read
        raise DecodeError("invalid_json") from exc
    return docs


def _to_payload(doc: object) -> Payload:
    if not isinstance(doc, dict):
        raise DecodeError("not_an_object")
    message_type = doc.get("messageType")
    if message_type not in (DATA_MESSAGE, CONTROL_MESSAGE):
        raise DecodeError("unknown_message_type")
    owner, group, stream = doc.get("owner", ""), doc.get("logGroup", ""), doc.get("logStream", "")
    filters = doc.get("subscriptionFilters", [])
    policy_level = doc.get("policyLevel")
    if not (isinstance(owner, str) and isinstance(group, str) and isinstance(stream, str)):
        raise DecodeError("invalid_envelope", "owner, logGroup and logStream must be strings")
    if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
        raise DecodeError("invalid_envelope", "subscriptionFilters must be a list of strings")
    if policy_level is not None and not isinstance(policy_level, str):
        raise DecodeError("invalid_envelope", "policyLevel must be a string")
    raw_events = doc.get("logEvents")
    if not isinstance(raw_events, list):
        raise DecodeError("invalid_log_events", "logEvents must be a list")
    if message_type == DATA_MESSAGE and (not group or not stream):
        raise DecodeError("invalid_envelope", "a DATA_MESSAGE needs logGroup and logStream")
    events = tuple(_to_log_event(e) for e in raw_events)
    hint = doc.get(SOURCE_HINT_KEY)
    hint = hint if isinstance(hint, str) else None
    return Payload(message_type, owner, group, stream, tuple(filters), events, policy_level, hint)


def _to_log_event(raw: object) -> LogEvent:
    if not isinstance(raw, dict):
        raise DecodeError("invalid_log_events", "a log event must be an object")
    message = raw.get("message")
    if not isinstance(message, str):
        raise DecodeError("invalid_log_events", "a log event's message must be a string")
    event_id = raw.get("id", "")
    if isinstance(event_id, int) and not isinstance(event_id, bool):
        event_id = str(event_id)
    elif not isinstance(event_id, str):
        raise DecodeError("invalid_log_events", "a log event's id must be a string")
    ts = raw.get("timestamp")
    timestamp: int | None
    if isinstance(ts, int) and not isinstance(ts, bool):
        timestamp = ts
    elif isinstance(ts, float) and ts.is_integer():
        timestamp = int(ts)
    else:
        timestamp = None  # kept: shape marks the row with parse_error "bad_timestamp"
    extracted = raw.get("extractedFields")
    fields: dict[str, str] | None = None
    if isinstance(extracted, dict) and extracted:
        fields = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in extracted.items()}
    return LogEvent(event_id, timestamp, message, fields)


__all__ = [
    "CONTROL_MESSAGE",
    "DATA_MESSAGE",
    "SOURCE_HINT_KEY",
    "LogEvent",
    "Payload",
    "decode_data",
    "decode_record",
    "inflate",
    "plain_envelope",
    "use_native",
]
