"""Timestamp spelling for rows: epoch milliseconds to the ISO-8601 form Firehose's OpenX JSON SerDe
accepts (``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'``, firehose-contract §4).

Input: epoch milliseconds. Output: text, or None outside the range Hive timestamps hold here.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Final

# 1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. CloudWatch Logs cannot carry earlier
# events; later ones cannot be spelled with a four-digit year.
MIN_EPOCH_MS: Final = 0
MAX_EPOCH_MS: Final = 253_402_300_799_999
# ".000Z" .. ".999Z": indexing is cheaper than formatting the milliseconds each time.
MILLIS_SUFFIXES: Final = tuple(f".{n:03d}Z" for n in range(1000))


def iso_from_epoch_ms(ms: int) -> str | None:
    """``1700000000123`` -> ``"2023-11-14T22:13:20.123Z"``; None when out of range."""
    if not MIN_EPOCH_MS <= ms <= MAX_EPOCH_MS:
        return None
    return second_prefix(ms // 1000) + MILLIS_SUFFIXES[ms % 1000]


def iso_from_epoch_s(seconds: int) -> str:
    """``1700000000`` -> ``"2023-11-14T22:13:20.000Z"`` (``seconds`` must be in range)."""
    return second_prefix(seconds) + ".000Z"


def date_hour_from_epoch_ms(ms: int) -> tuple[str, str]:
    """``ms`` -> (``yyyy-MM-dd``, ``HH``) in UTC, for partition keys (``ms`` must be in range)."""
    prefix = second_prefix(ms // 1000)
    return prefix[:10], prefix[11:13]


@lru_cache(maxsize=8192)
def second_prefix(seconds: int) -> str:
    """``1700000000`` -> ``"2023-11-14T22:13:20"``: the part of a timestamp before its milliseconds
    (``seconds`` must be in range); a loop over one payload's events keeps the last one at hand."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


__all__ = [
    "MAX_EPOCH_MS",
    "MILLIS_SUFFIXES",
    "MIN_EPOCH_MS",
    "date_hour_from_epoch_ms",
    "iso_from_epoch_ms",
    "iso_from_epoch_s",
    "second_prefix",
]
