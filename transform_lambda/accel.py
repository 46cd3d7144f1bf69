"""Optional accelerators for the transform's hot steps, each behind a standard-library fallback.

Input: whichever of orjson (JSON in and out), isal (inflate), pybase64 (base64 in and out) and msgspec
(a payload's JSON into typed structs, ``payload_structs``) is importable.
Output: fast versions of those steps that return exactly what the standard library would, or
``None`` (or an error) to send the caller to its standard-library path, which then decides. So the
rows and bytes are identical with and without them (tests/unit/test_accel.py); only the time differs.
``STREAM_PROCESSOR_ACCELERATORS=off`` (read at import) or ``use_accelerators(False)`` turns them off.
"""

from __future__ import annotations

import binascii
import functools
import math
import os
import zlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Final, Protocol

from transform_lambda.payload import Payload

ENV_SWITCH: Final = "STREAM_PROCESSOR_ACCELERATORS"
# orjson reads an integer literal outside [-2**63, 2**64) as a float; json.loads keeps an int. A float
# that large may be such a literal, so a document holding one is left to json.loads.
_BIG: Final = float(2**63)
_PLAIN_TYPES: Final = frozenset({str, int, bool, type(None)})
# What a row's values may be (schema.ColumnValue; a dict is the ``fields`` map of strings).
_ROW_TYPES: Final = frozenset({str, int, float, dict, type(None)})
_ROW_TYPES_BUT_FLOAT: Final = _ROW_TYPES - {float}
# What ``dumps_document`` writes as json does: no floats (orjson spells some differently), no
# subclasses (a StrEnum is a str to json, and orjson writes it too, but keep to the plain kinds).
_PLAIN_DOCUMENT_TYPES: Final = frozenset({str, int, bool, type(None), dict, list})
# json.loads fails with RecursionError near 1000 levels of nesting, orjson only past 1024. Nesting
# needs two characters a level, so shorter texts cannot reach the difference.
_SHALLOW_CHARS: Final = 1000


class Inflater(Protocol):
    """What ``decode.inflate`` uses of a ``zlib.decompressobj``."""

    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes: ...  # 0: no limit, as zlib


def _optional(name: str) -> ModuleType | None:
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None


_orjson = _optional("orjson")
_isal_zlib = _optional("isal.isal_zlib")
_pybase64 = _optional("pybase64")


def _payload_structs_module() -> ModuleType | None:
    """``payload_structs`` when msgspec is installed and takes its struct definitions; else None."""
    try:
        return __import__("transform_lambda.payload_structs", fromlist=["_"])
    except Exception:  # no msgspec, or one it cannot use: decode's other paths read every payload
        return None


_payload_structs = _payload_structs_module()
# Without these orjson would write datetimes and dataclasses that json refuses.
_DUMPS_OPTIONS: Final = (_orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS) if _orjson else 0
_dumps_option: Final = functools.partial(_orjson.dumps, option=_DUMPS_OPTIONS) if _orjson else None


def _no_loads(data: bytes | bytearray | str) -> Any:
    return None


def _orjson_loads(data: bytes | bytearray | str) -> Any:
    assert _orjson is not None
    try:
        return _orjson.loads(data)
    except _orjson.JSONDecodeError:
        return None


def _no_read_payload(body: bytes | bytearray) -> Payload | None:
    return None


def _no_dumps(row: dict[str, Any]) -> bytes | None:
    return None


def _orjson_dumps(row: dict[str, Any]) -> bytes | None:
    """orjson's spelling of a row of column values (str, int, float, ``dict[str, str]``), which is
    json's except for floats: orjson writes 1e-05 as 0.00001, 1e-07 as 1e-7 and NaN as null (json
    refuses it). Rows with such floats, or values of other kinds, are left to json."""
    assert _orjson is not None
    if not _ROW_TYPES_BUT_FLOAT.issuperset(map(type, row.values())):  # most rows: one pass, no set
        kinds = set(map(type, row.values()))
        if not _ROW_TYPES.issuperset(kinds):
            return None
        for value in row.values():
            if type(value) is float and not _same_float_spelling(value):
                return None
    try:
        out: bytes = _orjson.dumps(row, option=_DUMPS_OPTIONS)
    except TypeError:  # a lone surrogate, an int past 64 bits, a key that is not a string
        return None
    return out


def _no_dumps_document(doc: Any) -> bytes | None:
    return None


def _orjson_dumps_document(doc: Any) -> bytes | None:
    """orjson's compact spelling of a document of strings, ints, lists and dicts, which is json's
    (``separators=(",", ":")``, ``ensure_ascii=False``); None for anything orjson refuses."""
    assert _orjson is not None
    if not _PLAIN_DOCUMENT_TYPES.issuperset(_value_types(doc)):
        return None
    try:
        out: bytes = _orjson.dumps(doc)
    except TypeError:  # a lone surrogate, an int past 64 bits, a key that is not a string
        return None
    return out


def _value_types(doc: Any) -> set[type]:
    """The types of every value in a document of dicts and lists (the containers included)."""
    kinds: set[type] = set()
    pending = [doc]
    while pending:
        value = pending.pop()
        kind = type(value)
        kinds.add(kind)
        if kind is dict:
            pending.extend(value.values())
        elif kind is list:
            pending.extend(value)
    return kinds


def _no_dumps_rows(rows: Sequence[dict[str, Any]], float_keys: frozenset[str]) -> list[bytes] | None:
    return None


def _orjson_dumps_rows(rows: Sequence[dict[str, Any]], float_keys: frozenset[str]) -> list[bytes] | None:
    """orjson's spelling of rows as ``shape`` builds them: strings, ints within 64 bits, finite floats
    and string maps, floats only under ``float_keys``. So only those floats need looking at (see
    ``_orjson_dumps``), and the rows are written in one C loop. None sends all of them to json."""
    assert _dumps_option is not None
    for row in rows:
        if not row.keys().isdisjoint(float_keys):
            for key in float_keys:
                value = row.get(key)
                if type(value) is float and not _same_float_spelling(value):
                    return None
    try:
        return list(map(_dumps_option, rows))
    except TypeError:  # a lone surrogate
        return None


def _same_float_spelling(value: float) -> bool:
    """Whether orjson writes ``value`` as json does (it writes 1e-05 as 0.00001 and NaN as null)."""
    return value == 0.0 or 1e-4 <= abs(value) < math.inf


def _stdlib_b64decode(data: str) -> bytes:
    return binascii.a2b_base64(data, strict_mode=True)


def _pybase64_b64decode(data: str) -> bytes:
    # pybase64 refuses a few spellings binascii's strict mode takes ("AAAA="); binascii decides those.
    assert _pybase64 is not None
    try:
        out: bytes = _pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return binascii.a2b_base64(data, strict_mode=True)
    return out


def _stdlib_b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _pybase64_b64encode(data: bytes) -> str:
    # Same alphabet and padding as binascii: byte-identical output.
    assert _pybase64 is not None
    # Straight into a str: b64encode's bytes and then .decode("ascii") copy the output a second time.
    out: str = _pybase64.b64encode_as_string(data)
    return out


def _stdlib_decompressobj(wbits: int) -> Inflater:
    return zlib.decompressobj(wbits=wbits)


def _isal_decompressobj(wbits: int) -> Inflater:
    assert _isal_zlib is not None
    inflater: Inflater = _isal_zlib.decompressobj(wbits=wbits)
    return inflater


# The active implementations (rebound by use_accelerators). Callers look them up at call time.
loads: Callable[[bytes | bytearray | str], Any] = _no_loads
# A payload's JSON into its ``Payload`` (``payload_structs``), or None (decode's other paths decide).
read_payload: Callable[[bytes | bytearray], Payload | None] = _no_read_payload
dumps_row: Callable[[dict[str, Any]], bytes | None] = _no_dumps
dumps_rows: Callable[[Sequence[dict[str, Any]], frozenset[str]], list[bytes] | None] = _no_dumps_rows
dumps_document: Callable[[Any], bytes | None] = _no_dumps_document
b64decode: Callable[[str], bytes] = _stdlib_b64decode
b64encode: Callable[[bytes], str] = _stdlib_b64encode
fast_decompressobj: Callable[[int], Inflater] | None = None
INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error,)
_enabled = False


def available() -> tuple[str, ...]:
    """The accelerators importable here."""
    return tuple(
        name
        for name, module in (
            ("orjson", _orjson),
            ("isal", _isal_zlib),
            ("pybase64", _pybase64),
            ("msgspec", _payload_structs),
        )
        if module
    )


def active() -> tuple[str, ...]:
    """The accelerators in use now."""
    return available() if _enabled else ()


def use_accelerators(enabled: bool) -> None:
    """Use every importable accelerator (True) or the standard library only (False)."""
    global \
        loads, \
        read_payload, \
        dumps_row, \
        dumps_rows, \
        dumps_document, \
        b64decode, \
        b64encode, \
        fast_decompressobj, \
        INFLATE_ERRORS, \
        _enabled
    on = _enabled = enabled and bool(available())
    loads = _orjson_loads if on and _orjson else _no_loads
    read_payload = _payload_structs.read_payload if on and _payload_structs else _no_read_payload
    dumps_row = _orjson_dumps if on and _orjson else _no_dumps
    dumps_rows = _orjson_dumps_rows if on and _orjson else _no_dumps_rows
    dumps_document = _orjson_dumps_document if on and _orjson else _no_dumps_document
    b64decode = _pybase64_b64decode if on and _pybase64 else _stdlib_b64decode
    b64encode = _pybase64_b64encode if on and _pybase64 else _stdlib_b64encode
    fast_decompressobj = _isal_decompressobj if on and _isal_zlib else None
    isal_error = getattr(_isal_zlib, "error", None) if on else None
    INFLATE_ERRORS = (zlib.error, isal_error) if isinstance(isal_error, type) else (zlib.error,)


def exact_object(doc: Any, text: str) -> bool:
    """Whether ``loads``' dict from ``text`` is surely what ``json.loads(text)`` returns."""
    if type(doc) is not dict:
        return False
    if _PLAIN_TYPES.issuperset(map(type, doc.values())):
        return True
    if len(text) >= _SHALLOW_CHARS and text.count("{") + text.count("[") >= _SHALLOW_CHARS // 2:
        return False
    pending = list(doc.values())
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is float:
            if not -_BIG < value < _BIG:
                return False
        elif kind is dict:
            pending.extend(value.values())
        elif kind is list:
            pending.extend(value)
        elif kind not in _PLAIN_TYPES:
            return False
    return True


use_accelerators(os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("off", "0", "false", "no"))

__all__ = [
    "ENV_SWITCH",
    "INFLATE_ERRORS",
    "Inflater",
    "active",
    "available",
    "b64decode",
    "b64encode",
    "dumps_document",
    "dumps_row",
    "dumps_rows",
    "exact_object",
    "fast_decompressobj",
    "loads",
    "read_payload",
    "use_accelerators",
]
