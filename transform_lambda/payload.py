"""Decode stage, its output: a decoded CloudWatch Logs subscription message and its log events.

Input: nothing. Output: the ``Payload`` and ``LogEvent`` types (and the message types) that
``decode`` builds and every later stage reads; their own module so that the msgspec fast path
(``payload_structs``) can build them too without importing ``decode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

DATA_MESSAGE: Final = "DATA_MESSAGE"
CONTROL_MESSAGE: Final = "CONTROL_MESSAGE"
# Not CloudWatch's: the source a split record's chunks carry (split.py), so that a chunk is parsed as
# the whole record was rather than sniffed again from its own first event.
SOURCE_HINT_KEY: Final = "streamProcessorSource"


class LogEvent(NamedTuple):
    """One entry of a payload's ``logEvents``; ``timestamp`` is None when not an integer.

    A NamedTuple rather than a frozen dataclass: one is built per log event, at a quarter of the cost.
    """

    id: str
    timestamp: int | None
    message: str
    extracted_fields: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """A decoded CloudWatch Logs subscription message."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    subscription_filters: tuple[str, ...]
    log_events: tuple[LogEvent, ...]
    policy_level: str | None = None
    source_hint: str | None = None


__all__ = ["CONTROL_MESSAGE", "DATA_MESSAGE", "SOURCE_HINT_KEY", "LogEvent", "Payload"]
