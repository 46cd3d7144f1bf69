"""Decode stage, fast path: a CloudWatch Logs payload's JSON read straight into typed structs.

Input: the inflated JSON bytes of one record. Output: its ``Payload``, when the bytes are one JSON
document whose envelope and events hold only the keys ``decode`` reads, each of exactly the kind it
takes as it stands; else None (not one document, another key or kind, a DATA_MESSAGE without its group
or stream), which sends the caller to its standard path, so every error and every odd case is that
path's.

msgspec (an optional accelerator, ``accel``) checks each value's kind while it parses, so the log
events are read without a dict per event first. What it accepts it reads as ``json.loads`` does (the
last of duplicate keys, integers past 64 bits, the same strings); it refuses lone surrogates, NaN,
Infinity and integers longer than Python reads from text (``sys.get_int_max_str_digits``), which json
takes or fails on in its own way, so those go to the standard path. So do keys decode does not read: only
their values could nest deeply, and where the nesting gets too deep for json (RecursionError, near
1000 levels, 1500 on Python 3.12, less the caller's stack) differs between the two and with the depth
they are called at. tests/unit/test_payload_structs.py holds this path to the standard one.
Not compiled with mypyc (``scripts/build-native.sh``): msgspec builds these classes itself.
"""

from __future__ import annotations

from itertools import repeat
from operator import attrgetter
from typing import Final, Literal

import msgspec

from transform_lambda.payload import DATA_MESSAGE, SOURCE_HINT_KEY, LogEvent, Payload


# gc=False: the garbage collector does not track these structs (7 % less time to read a payload
# and make its LogEvents). Safe: a struct read from JSON holds strings, numbers and containers of
# them, which can never refer back to it, so no instance is ever part of a reference cycle.
class WireEvent(
    msgspec.Struct,
    kw_only=True,
    forbid_unknown_fields=True,
    gc=False,
    rename={"extracted_fields": "extractedFields"},
):
    """One entry of ``logEvents``, its fields in ``LogEvent``'s order."""

    id: str = ""
    timestamp: int | None = None
    message: str
    extracted_fields: dict[str, str] | None = None


class WirePayload(
    msgspec.Struct,
    kw_only=True,
    forbid_unknown_fields=True,
    gc=False,
    rename={"stream_processor_source": SOURCE_HINT_KEY},
):
    """A CloudWatch Logs subscription message; its fields are named as the keys AWS writes."""

    messageType: Literal["DATA_MESSAGE", "CONTROL_MESSAGE"]
    owner: str = ""
    logGroup: str = ""
    logStream: str = ""
    subscriptionFilters: list[str] = msgspec.field(default_factory=list)
    logEvents: list[WireEvent]
    policyLevel: str | None = None
    stream_processor_source: str | None = None


_DECODER: Final = msgspec.json.Decoder(WirePayload)
_EXTRACTED: Final = attrgetter("extracted_fields")
_ASTUPLE: Final = msgspec.structs.astuple
_TUPLE_NEW: Final = tuple.__new__


def read_payload(body: bytes | bytearray) -> Payload | None:
    """The payload in ``body``, as ``decode``'s standard path builds it; None to leave it to that path."""
    try:
        wire = _DECODER.decode(body)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    if wire.messageType == DATA_MESSAGE and (not wire.logGroup or not wire.logStream):
        return None
    events = wire.logEvents
    extracted = list(map(_EXTRACTED, events))
    log_events: tuple[LogEvent, ...]
    if extracted.count(None) == len(extracted):
        # Each struct's values are a LogEvent's, in order: made in C, without LogEvent's __new__.
        log_events = tuple(map(_TUPLE_NEW, repeat(LogEvent), map(_ASTUPLE, events)))
    else:  # extractedFields present (a filter pattern's fields): empty is None, as decode has it
        log_events = tuple(LogEvent(e.id, e.timestamp, e.message, e.extracted_fields or None) for e in events)
    return Payload(
        wire.messageType,
        wire.owner,
        wire.logGroup,
        wire.logStream,
        tuple(wire.subscriptionFilters),
        log_events,
        wire.policyLevel,
        wire.stream_processor_source,
    )


__all__ = ["WireEvent", "WirePayload", "read_payload"]
