"""Parse stage, number reading shared by the parsers: strict text and JSON values to column types.

Input: a field's text (``"128"``, ``"9.14"``, ``"-"``) or a decoded JSON value. Output: an ``int`` or
a finite ``float`` that fits its Hive column, or None when the value is absent, not a plain decimal
number (no signs, exponents, ``nan``, ``1_000`` or non-ASCII digits) or out of range.
"""

from __future__ import annotations

import math
from typing import Final

from transform_lambda.schema import BIGINT_RANGE, INT_RANGE

INT_MAX: Final = INT_RANGE[1]
BIGINT_MAX: Final = BIGINT_RANGE[1]
# Longer digit strings are out of every range we read; checking the length first also keeps
# int() away from CPython's 4300-digit conversion limit.
MAX_DIGITS: Final = 19


def text_to_int(text: str, high: int = BIGINT_MAX) -> int | None:
    """``"128"`` -> 128; None unless ``text`` is ASCII digits with a value of at most ``high``."""
    if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        value = int(text)
        if value <= high:
            return value
    return None


def text_to_float(text: str) -> float | None:
    """``"9.14"`` -> 9.14; None unless ``text`` is ASCII digits with at most one decimal point."""
    whole, dot, frac = text.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and not (frac.isascii() and frac.isdigit())):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def json_to_int(value: object, high: int = BIGINT_MAX) -> int | None:
    """A JSON number (or numeric string) as a non-negative int up to ``high``; integral floats count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= high else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value <= high else None
    if isinstance(value, str):
        return text_to_int(value, high)
    return None


def json_to_float(value: object) -> float | None:
    """A JSON number (or numeric string) as a finite non-negative float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) and value >= 0 else None
    if isinstance(value, int):
        return float(value) if 0 <= value <= 2**53 else None
    if isinstance(value, str):
        return text_to_float(value)
    return None


__all__ = ["BIGINT_MAX", "INT_MAX", "MAX_DIGITS", "json_to_float", "json_to_int", "text_to_float", "text_to_int"]
