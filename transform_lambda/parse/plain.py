"""Parse stage, plain text: level detection for common unstructured log line shapes.

Input: a message. Output: ``{"level": ...}`` when a level is recognized, else ``{}``. Never raises:
it is also the fallback every other parser's failure lands on.
"""

from __future__ import annotations

import re
from typing import Final

from transform_lambda.parse.levels import SYSLOG_SEVERITIES, normalize_level
from transform_lambda.schema import ColumnValue

_WORDS: Final = (
    "trace|debug|dbg|info|information|notice|warn|warning|error|err|fatal|critical|crit|severe|panic|emerg|alert"
)
# First match wins, scanning left to right. Any case inside brackets, after ``level=`` or before a
# colon; elsewhere only the upper-case word counts, so prose ("no error found") sets no level.
_LEVEL: Final = re.compile(
    rf"\[(?:\w+:)?(?P<bracket>(?i:{_WORDS}))\]"  # [ERROR] (Lambda python), [error] (nginx), [core:error]
    rf"|(?:level|lvl|severity|loglevel)=[\"']?(?P<logfmt>(?i:{_WORDS}))\b"  # level=error (logfmt)
    r"|(?<![\w.\-/])(?P<upper>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL|SEVERE|PANIC)"
    r"(?![\w\-/])"  # log4j / logback / python logging / zap / env_logger
    rf"|(?:^|(?<=\s))(?P<colon>(?i:{_WORDS})):"  # "error: ..." (syslog programs, compilers)
)
_SCAN_PREFIX: Final = 160
_UPPER_WORDS: Final = frozenset(
    ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL", "SEVERE", "PANIC")
)
_TIMESTAMP_CHARS: Final = frozenset("0123456789-:.,TZ+")
# Every level word contains one of these; a lower-cased literal search for them is ~6x cheaper than
# the full pattern, and most lines without a level are turned away by it.
_STEMS: Final = re.compile("trac|debu|dbg|inf|notice|warn|err|fatal|crit|sever|panic|emerg|alert")
# glog / klog: Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg
_GLOG_LEVELS: Final = {"I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"}
_MAX_SYSLOG_PRI: Final = 191  # facility 23 * 8 + severity 7 (RFC 5424 §6.2.1)


def parse_plain(message: str) -> dict[str, ColumnValue]:
    """Find the level of a text line: glog prefix, syslog PRI, else the first level word."""
    level = _prefix_level(message)
    if level is None and message[:1].isdigit():
        level = _level_after_timestamp(message)
    if level is None:
        if _STEMS.search(message[:_SCAN_PREFIX].lower()) is None:
            return {}
        match = _LEVEL.search(message, 0, _SCAN_PREFIX)
        if match is None:
            return {}
        level = normalize_level(match.group(match.lastindex or 0))
    return {"level": level} if level else {}


def _level_after_timestamp(message: str) -> str | None:
    # "2025-11-23T10:00:06.252Z INFO  [main] ..." (log4j, logback, Python logging, zap): when one or
    # two leading tokens hold only timestamp characters, nothing in them can match _LEVEL, so an
    # upper-case level word as the next whole token is the first match _LEVEL would find.
    tokens = message[:_SCAN_PREFIX].split(None, 3)
    for index in (1, 2):
        if len(tokens) <= index or not _TIMESTAMP_CHARS.issuperset(tokens[index - 1]):
            return None
        if tokens[index] in _UPPER_WORDS:
            return normalize_level(tokens[index])
    return None


def _prefix_level(message: str) -> str | None:
    first = message[:1]
    if first in _GLOG_LEVELS and message[5:6] == " " and message[8:9] == ":" and message[1:5].isdigit():
        return _GLOG_LEVELS[first]
    if first == "<":
        end = message.find(">", 1, 5)
        digits = message[1:end]
        if end > 1 and digits.isascii() and digits.isdigit() and int(digits) <= _MAX_SYSLOG_PRI:
            return SYSLOG_SEVERITIES[int(digits) % 8]
    return None


__all__ = ["parse_plain"]
