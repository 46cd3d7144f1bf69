"""Level normalization shared by the parsers.

Input: a level as found in a log line (a word in any case, or a pino/bunyan number). Output: one of
TRACE, DEBUG, INFO, WARN, ERROR, FATAL, or None when unknown.
"""

from __future__ import annotations

from typing import Final

LEVELS: Final = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")

_ALIASES: Final[dict[str, str]] = {
    "TRACE": "TRACE",
    "FINEST": "TRACE",
    "FINER": "TRACE",
    "DEBUG": "DEBUG",
    "DBG": "DEBUG",
    "FINE": "DEBUG",
    "INFO": "INFO",
    "INF": "INFO",
    "INFORMATION": "INFO",
    "INFORMATIONAL": "INFO",
    "NOTICE": "INFO",
    "WARN": "WARN",
    "WARNING": "WARN",
    "WRN": "WARN",
    "ERROR": "ERROR",
    "ERR": "ERROR",
    "SEVERE": "ERROR",
    "FATAL": "FATAL",
    "CRITICAL": "FATAL",
    "CRIT": "FATAL",
    "PANIC": "FATAL",
    "DPANIC": "FATAL",
    "EMERG": "FATAL",
    "EMERGENCY": "FATAL",
    "ALERT": "FATAL",
}
# pino and bunyan write levels as numbers: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
_NUMERIC: Final[dict[int, str]] = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
# Syslog severities (RFC 5424 §6.2.1), index = severity: emerg, alert, crit -> FATAL; notice -> INFO.
SYSLOG_SEVERITIES: Final = ("FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG")


def normalize_level(raw: object) -> str | None:
    """Map a level spelling (case-insensitive) or a pino/bunyan level number to the set, or None."""
    if isinstance(raw, str):
        level = _ALIASES.get(raw)
        return level if level is not None else _ALIASES.get(raw.strip().upper())
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _NUMERIC.get(raw)
    return None


__all__ = ["LEVELS", "SYSLOG_SEVERITIES", "normalize_level"]
