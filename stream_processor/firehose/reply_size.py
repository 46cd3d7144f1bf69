"""Invoke stage, reply size: how many bytes a transform response is as JSON, for the 6 MB check.

Input: the handler's response. Output: ``ReplySize``: exactly ``len(json.dumps(response).encode())``
and, for the usual reply (``{"records": [...]}`` of plain entries), each ``Ok`` entry's ``data``
already decoded, since that decoding is what proves the long base64 text needs no JSON escaping.
Only an unusual response is serialized to be measured.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Final

from stream_processor.errors import ContractError
from transform_lambda import accel

# json.dumps' default separators: ", " between items, ": " after a key.
_ITEM_SEP: Final = 2
_KEY_SEP: Final = 2
# Deeper values (never in a real reply) are measured by json.dumps, which also finds cycles.
_MAX_DEPTH: Final = 8


@dataclass(frozen=True, slots=True)
class ReplySize:
    """A response's size as JSON and, by entry position, the ``Ok`` entries' decoded data (None
    where it was not decoded here: ``check_reply`` then decodes it itself)."""

    size: int
    decoded: list[bytes | None]


def measure_reply(response: object) -> ReplySize:
    """The response's JSON size (``json.dumps`` defaults, UTF-8).

    Raises:
        ContractError: ``Lambda.JsonProcessingException`` when the response is not JSON-serializable.
    """
    plain = _plain_reply(response)
    if plain is not None:
        return plain
    try:
        encoded = json.dumps(response)
    except (TypeError, ValueError) as exc:
        raise ContractError("Lambda.JsonProcessingException", "the response is not JSON-serializable") from exc
    return ReplySize(len(encoded.encode()), [])


def _plain_reply(response: object) -> ReplySize | None:
    """The size of ``{"records": [entry, ...]}`` with plain entries, summed part by part."""
    if type(response) is not dict or len(response) != 1:
        return None
    entries = response.get("records")
    if type(entries) is not list:
        return None
    size = len('{"records": []}') + _ITEM_SEP * max(len(entries) - 1, 0)
    decoded: list[bytes | None] = []
    for entry in entries:
        if type(entry) is not dict:
            return None
        data: bytes | None = None
        raw = entry.get("data")
        if type(raw) is str and entry.get("result") == "Ok":
            data = _strict_b64decode(raw)
        for key, value in entry.items():
            if type(key) is not str:
                return None
            # Strict base64 holds only [A-Za-z0-9+/=], which JSON writes as they are.
            part = len(value) + 2 if key == "data" and data is not None else _value_size(value, 1)
            if part is None:
                return None
            size += len(encode_basestring_ascii(key)) + _KEY_SEP + part
        size += 2 + _ITEM_SEP * max(len(entry) - 1, 0)
        decoded.append(data)
    return ReplySize(size, decoded)


def _value_size(value: object, depth: int) -> int | None:
    """``len(json.dumps(value))`` for strings, ints, booleans, None and dicts and lists of them;
    None for anything else (floats, subclasses, deep nesting: json.dumps then measures)."""
    if isinstance(value, str):  # a StrEnum too, as json writes it
        return len(encode_basestring_ascii(value))
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, int):
        return len(int.__repr__(value))  # what json writes for an int
    if depth >= _MAX_DEPTH:
        return None
    if type(value) is dict:
        size = 2 + _ITEM_SEP * max(len(value) - 1, 0)
        for key, item in value.items():
            part = _value_size(item, depth + 1)
            if type(key) is not str or part is None:
                return None
            size += len(encode_basestring_ascii(key)) + _KEY_SEP + part
        return size
    if type(value) is list:
        size = 2 + _ITEM_SEP * max(len(value) - 1, 0)
        for item in value:
            part = _value_size(item, depth + 1)
            if part is None:
                return None
            size += part
        return size
    return None


def _strict_b64decode(text: str) -> bytes | None:
    """``base64.b64decode(text, validate=True)``, or None where that would raise."""
    try:
        return accel.b64decode(text)
    except (binascii.Error, ValueError):
        return None


__all__ = ["ReplySize", "measure_reply"]
