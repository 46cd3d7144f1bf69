"""Configuration of the transform, built once at the edge and passed down.

Input: environment variables prefixed ``STREAM_PROCESSOR_`` (Lambda) or explicit arguments (the
local twin). Output: a frozen ``TransformConfig``. Stages never read the environment themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

ENV_PREFIX: Final = "STREAM_PROCESSOR_"

# A record's decompressed payload may not exceed this; a gzip bomb fails fast instead of
# exhausting the function's memory. CloudWatch sends at most ~1 MB compressed per record and
# real payloads inflate 4-10x, so 64 MiB leaves a wide margin.
MAX_DECOMPRESSED_BYTES: Final = 64 * 1024 * 1024

# The Lambda synchronous response limit is 6 MB (6,291,456 bytes; firehose-contract §2.4).
# Like AWS's blueprint we keep a margin below it for the runtime's own envelope.
LAMBDA_RESPONSE_LIMIT_BYTES: Final = 6 * 1024 * 1024
RESPONSE_BUDGET_BYTES: Final = 6_000_000


class ConfigError(ValueError):
    """A configuration value is malformed (raised at cold start, never per record)."""


@dataclass(frozen=True, slots=True)
class TransformConfig:
    """Everything the transform's stages may depend on besides their input."""

    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES
    response_budget_bytes: int = RESPONSE_BUDGET_BYTES
    # Ordered (log group glob, parser name) rules tried before the built-in detection.
    source_rules: tuple[tuple[str, str], ...] = ()
    # Ordered (log group glob, VPC flow log field list) for custom flow log formats.
    vpc_flow_formats: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TransformConfig:
        """Read ``STREAM_PROCESSOR_*`` variables.

        Raises:
            ConfigError: a variable is present but malformed.
        """
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        if (raw := env.get(ENV_PREFIX + "MAX_DECOMPRESSED_BYTES")) is not None:
            kwargs["max_decompressed_bytes"] = _positive_int("MAX_DECOMPRESSED_BYTES", raw)
        if (raw := env.get(ENV_PREFIX + "RESPONSE_BUDGET_BYTES")) is not None:
            budget = _positive_int("RESPONSE_BUDGET_BYTES", raw)
            if budget > LAMBDA_RESPONSE_LIMIT_BYTES:
                raise ConfigError(f"{ENV_PREFIX}RESPONSE_BUDGET_BYTES must not exceed {LAMBDA_RESPONSE_LIMIT_BYTES}")
            kwargs["response_budget_bytes"] = budget
        if (raw := env.get(ENV_PREFIX + "SOURCE_RULES")) is not None:
            kwargs["source_rules"] = parse_source_rules(raw)
        if (raw := env.get(ENV_PREFIX + "VPC_FLOW_FORMATS")) is not None:
            kwargs["vpc_flow_formats"] = parse_vpc_flow_formats(raw)
        return cls(**kwargs)  # type: ignore[arg-type]


def parse_source_rules(raw: str) -> tuple[tuple[str, str], ...]:
    """Parse ``{"glob": "parser", ...}`` (JSON, order kept) into rules.

    Raises:
        ConfigError: not a JSON object of strings.
    """
    mapping = _json_object("SOURCE_RULES", raw)
    rules: list[tuple[str, str]] = []
    for glob, parser in mapping.items():
        if not isinstance(parser, str) or not parser:
            raise ConfigError(f"{ENV_PREFIX}SOURCE_RULES: parser for {glob!r} must be a non-empty string")
        rules.append((glob, parser))
    return tuple(rules)


def parse_vpc_flow_formats(raw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Parse ``{"glob": "${version} ${account-id} ..." | [field, ...]}`` into per-group field lists.

    Raises:
        ConfigError: not a JSON object of strings or string lists.
    """
    mapping = _json_object("VPC_FLOW_FORMATS", raw)
    formats: list[tuple[str, tuple[str, ...]]] = []
    for glob, spec in mapping.items():
        if isinstance(spec, str):
            names = tuple(part.strip("${}") for part in spec.split())
        elif isinstance(spec, list) and all(isinstance(n, str) for n in spec):
            names = tuple(spec)
        else:
            raise ConfigError(f"{ENV_PREFIX}VPC_FLOW_FORMATS: format for {glob!r} must be a string or list")
        if not names:
            raise ConfigError(f"{ENV_PREFIX}VPC_FLOW_FORMATS: format for {glob!r} is empty")
        formats.append((glob, names))
    return tuple(formats)


def _json_object(name: str, raw: str) -> dict[str, object]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{ENV_PREFIX}{name} must be a JSON object")
    return value


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{ENV_PREFIX}{name} must be positive, got {value}")
    return value


__all__ = [
    "ENV_PREFIX",
    "LAMBDA_RESPONSE_LIMIT_BYTES",
    "MAX_DECOMPRESSED_BYTES",
    "RESPONSE_BUDGET_BYTES",
    "ConfigError",
    "TransformConfig",
    "parse_source_rules",
    "parse_vpc_flow_formats",
]
