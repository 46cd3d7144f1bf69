"""S3 prefixes as Firehose evaluates them: ``!{namespace:value}`` expressions and object names.

Input: a configured ``Prefix``/``ErrorOutputPrefix``, the oldest arrival time in the object, the
record's partition keys. Output: the evaluated prefix and the object key. Rules follow Firehose's
"Custom Prefixes for Amazon S3 Objects" page (firehose-contract §3): timestamps in UTC from the
approximate arrival time of the oldest record in the object, every ``!{timestamp:…}`` in one prefix
resolving to the same instant, ``!{firehose:random-string}`` new at each occurrence, and
``!{timestamp:yyyy/MM/dd/HH/}`` appended when a prefix has no timestamp (without dynamic partitioning).
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from stream_processor.errors import ConfigError

MAX_EVALUATED_PREFIX: Final = 512
DEFAULT_TIME_PREFIX: Final = "!{timestamp:yyyy/MM/dd/HH/}"
ERROR_OUTPUT_TYPES: Final = frozenset(
    {"processing-failed", "format-conversion-failed", "decompression-failed", "activePartitionExceeded"}
)
_EXPRESSION: Final = re.compile(r"!\{([^{}:]*):([^{}]*)\}")
_RANDOM_ALPHABET: Final = string.ascii_letters + string.digits
_NAMESPACES: Final = frozenset({"timestamp", "firehose", "partitionKeyFromLambda", "partitionKeyFromQuery"})


class PrefixError(ValueError):
    """A prefix cannot be evaluated for this record (its partition key is missing or invalid)."""


@dataclass(frozen=True, slots=True)
class _Expression:
    namespace: str
    value: str


def validate_prefixes(prefix: str, error_output_prefix: str, dynamic_partitioning: bool) -> None:
    """Apply Firehose's configuration rules for S3 prefixes.

    Raises:
        ConfigError: the combination would be rejected by Firehose.
    """
    uses = _expressions(prefix, "Prefix")
    error_uses = _expressions(error_output_prefix, "ErrorOutputPrefix")
    if dynamic_partitioning and not prefix:
        raise ConfigError("Prefix is required when dynamic partitioning is enabled")
    if any(e.namespace == "firehose" and e.value == "error-output-type" for e in uses):
        raise ConfigError("Prefix must not contain !{firehose:error-output-type}")
    for e in uses:
        if e.namespace.startswith("partitionKeyFrom") and not dynamic_partitioning:
            raise ConfigError(f"Prefix uses {e.namespace} but dynamic partitioning is disabled")
    for e in error_uses:
        if e.namespace.startswith("partitionKeyFrom"):
            raise ConfigError("ErrorOutputPrefix must not contain partition key expressions")
    if uses or dynamic_partitioning:
        if not error_output_prefix:
            raise ConfigError("ErrorOutputPrefix is required when Prefix uses expressions or dynamic partitioning")
        if not any(e.namespace == "firehose" and e.value == "error-output-type" for e in error_uses):
            raise ConfigError("ErrorOutputPrefix must contain !{firehose:error-output-type}")


def evaluate_prefix(
    prefix: str,
    oldest_arrival_ms: int,
    *,
    partition_keys: Mapping[str, str] | None = None,
    error_output_type: str | None = None,
    dynamic_partitioning: bool = False,
    rng: random.Random | None = None,
) -> str:
    """Evaluate a prefix for one S3 object.

    Raises:
        PrefixError: a partition key the prefix names is missing, or the result is too long.
    """
    template = prefix
    if not any(e.namespace == "timestamp" for e in _expressions(template, "prefix")) and not dynamic_partitioning:
        template += DEFAULT_TIME_PREFIX
    at = datetime.fromtimestamp(oldest_arrival_ms / 1000, tz=UTC)

    def substitute(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_java_datetime(at, value)
        if namespace == "firehose":
            if value == "random-string":  # a fresh generator seeds from the OS: only when one is needed
                rand = rng or random.Random()
                return "".join(rand.choice(_RANDOM_ALPHABET) for _ in range(11))
            if value == "error-output-type" and error_output_type is not None:
                return error_output_type
            raise PrefixError(f"!{{firehose:{value}}} cannot be evaluated here")
        key = (partition_keys or {}).get(value)
        if key is None:
            raise PrefixError(f"partition key {value!r} is missing")
        if not key:
            raise PrefixError(f"partition key {value!r} is empty")
        return key

    evaluated = _EXPRESSION.sub(substitute, template)
    if len(evaluated) > MAX_EVALUATED_PREFIX:
        raise PrefixError(f"evaluated prefix is longer than {MAX_EVALUATED_PREFIX} characters")
    return evaluated


def keys_only(prefix: str) -> bool:
    """Whether the prefix evaluates from partition keys alone (no timestamp, no firehose expression):
    with dynamic partitioning, the same keys then always give the same prefix, or the same error."""
    return all(e.namespace not in ("timestamp", "firehose") for e in _expressions(prefix, "prefix"))


def object_name(stream_name: str, at_ms: int, extension: str = "", version: int = 1, unique: str | None = None) -> str:
    """``<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>``, Firehose's fixed suffix."""
    at = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    return f"{stream_name}-{version}-{at:%Y-%m-%d-%H-%M-%S}-{unique or uuid.uuid4()}{extension}"


def _expressions(prefix: str, what: str) -> list[_Expression]:
    found = [_Expression(m.group(1), m.group(2)) for m in _EXPRESSION.finditer(prefix)]
    if "!{" in _EXPRESSION.sub("", prefix):
        raise ConfigError(f"{what} has '!{{' outside a valid !{{namespace:value}} expression")
    for e in found:
        if e.namespace not in _NAMESPACES:
            raise ConfigError(f"{what}: unknown namespace {e.namespace!r}")
        if e.namespace == "firehose" and e.value not in ("random-string", "error-output-type"):
            raise ConfigError(f"{what}: unknown firehose expression {e.value!r}")
        if e.namespace == "timestamp":
            if not e.value:
                raise ConfigError(f"{what}: empty timestamp pattern")
            format_java_datetime(datetime(2000, 1, 1, tzinfo=UTC), e.value)  # refuses unsupported letters now
    if ".." in prefix.split("/"):
        raise ConfigError(f"{what} must not contain a '..' path segment")
    return found


# Java DateTimeFormatter pattern letters we support, by letter -> function(count, datetime).
_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def format_java_datetime(at: datetime, pattern: str) -> str:
    """Format ``at`` with a Java ``DateTimeFormatter`` pattern (the common letters; quotes literal).

    Raises:
        ConfigError: the pattern uses an unsupported letter.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                raise ConfigError(f"unterminated quote in timestamp pattern {pattern!r}")
            out.append("'" if end == i + 1 else pattern[i + 1 : end])
            i = end + 1
            continue
        if not ch.isalpha():
            out.append(ch)
            i += 1
            continue
        run = 1
        while i + run < n and pattern[i + run] == ch:
            run += 1
        out.append(_field(ch, run, at, pattern))
        i += run
    return "".join(out)


def _field(letter: str, count: int, at: datetime, pattern: str) -> str:
    if letter in "yu":
        return f"{at.year % 100:02d}" if count == 2 else f"{at.year:0{count}d}"
    if letter in "ML":
        if count >= 4:
            return _MONTHS[at.month - 1]
        if count == 3:
            return _MONTHS[at.month - 1][:3]
        return f"{at.month:0{count}d}"
    simple = {
        "d": at.day,
        "H": at.hour,
        "m": at.minute,
        "s": at.second,
        "D": at.timetuple().tm_yday,
        "h": (at.hour % 12) or 12,
        "k": at.hour or 24,
        "K": at.hour % 12,
    }
    if letter in simple:
        return f"{simple[letter]:0{count}d}"
    if letter == "S":
        return f"{at.microsecond:06d}000"[:count]
    if letter == "E":
        name = _DAYS[at.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "a":
        return "AM" if at.hour < 12 else "PM"
    raise ConfigError(f"timestamp pattern letter {letter!r} is not supported in {pattern!r}")


__all__ = [
    "DEFAULT_TIME_PREFIX",
    "ERROR_OUTPUT_TYPES",
    "PrefixError",
    "evaluate_prefix",
    "format_java_datetime",
    "keys_only",
    "object_name",
    "validate_prefixes",
]
