"""Census: what the twin itself finds in a record before the transform sees it, for conservation.

Input: a record's raw bytes. Output: a ``Census``: its log events, how many of them are in control
messages, and the decode error when the record cannot be decoded. The common case (one gzip member
holding one plain subscription message) is counted from the parsed JSON directly; anything else is
decoded in full with ``decode_data``, which the fast count agrees with by construction. The twin's
native build (``native_twin``) counts that common case in C, without building the events, and hands
anything else back to the Python count.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Final

from transform_lambda import accel
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import CONTROL_MESSAGE, decode_data, inflate, plain_envelope
from transform_lambda.errors import DecodeError

_GZIP_MAGIC: Final = b"\x1f\x8b"
# The twin's C counter (``_native_census.count_events``), when its native build is loaded.
_native: ModuleType | None = None


def use(module: ModuleType | None) -> None:
    """Count with the twin's built ``_native_census`` module, or with Python only (None)."""
    global _native
    _native = module


@dataclass(frozen=True, slots=True)
class Census:
    """What the twin itself finds in a record before the transform sees it."""

    events: int
    control_events: int
    decode_error: str | None


def take_census(data: bytes) -> Census:
    """Count a record's log events; an undecodable record has none and names its decode error."""
    fast = _plain_census(data)
    return fast if fast is not None else decoded_census(data)


def decoded_census(data: bytes) -> Census:
    """The census by decoding the whole record with ``decode_data`` (the reference the fast count
    agrees with)."""
    try:
        payloads = decode_data(data, MAX_DECOMPRESSED_BYTES)
    except DecodeError as exc:
        return Census(0, 0, f"{exc.stage}:{exc.code}")
    events = sum(len(p.log_events) for p in payloads)
    control = sum(len(p.log_events) for p in payloads if p.message_type == CONTROL_MESSAGE)
    return Census(events, control, None)


def _plain_census(data: bytes) -> Census | None:
    """The census of a gzip record holding one subscription message whose every log event is exactly
    ``{id, timestamp, message}`` with a string id and message and an integer timestamp, and whose
    envelope is valid: what ``decode_data`` surely decodes into one payload with those events.
    None for anything else (``decode_data`` then decides)."""
    with_orjson = "orjson" in accel.active()
    if not data.startswith(_GZIP_MAGIC) or (_native is None and not with_orjson):
        return None
    try:
        text = inflate(data, MAX_DECOMPRESSED_BYTES)
    except DecodeError:
        return None
    if _native is not None:
        counted: tuple[int, int] | None = _native.count_events(text)
        if counted is not None:
            return Census(counted[0], counted[1], None)
        if not with_orjson:
            return None
    doc = accel.loads(text)
    if not plain_envelope(doc):  # the transform's own test of a plain envelope
        return None
    events = doc["logEvents"]
    for event in events:
        if (
            type(event) is not dict
            or len(event) != 3
            or type(event.get("id")) is not str
            or type(event.get("message")) is not str
            or type(event.get("timestamp")) is not int
        ):
            return None
    count = len(events)
    return Census(count, count if doc["messageType"] == CONTROL_MESSAGE else 0, None)


__all__ = ["Census", "decoded_census", "take_census", "use"]
