"""Detect stage: which log format a payload carries, so one parser handles all its events.

Input: a ``Payload`` and the ``TransformConfig``. Output: ``(source, parser)``. Order: configured
log-group rules (``source_rules``), configured VPC flow log formats (``vpc_flow_formats``), built-in
rules on log group and stream names, the source a split record's chunk carries, then sniffing the
first event. A ``vpc_flow`` payload whose log group matches a configured format gets that format's
parser.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Final

from transform_lambda.config import TransformConfig
from transform_lambda.decode import Payload
from transform_lambda.parse import PARSERS, Parser, make_vpc_flow_parser

# (what the glob is matched against, glob, source). Globs are case-sensitive except on the
# lowercased group ("lgroup"); a rule whose parser is not registered is skipped.
_BUILTIN_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    ("group", "/aws/lambda/*", "lambda"),
    ("stream", "*_CloudTrail_*", "cloudtrail"),
    ("group", "aws-cloudtrail-logs*", "cloudtrail"),
    ("group", "API-Gateway-Execution-Logs*", "text"),
    ("group", "API-Gateway-Access-Logs*", "apigateway"),
    ("group", "/aws/apigateway/*", "apigateway"),
    ("group", "/aws/api-gateway/*", "apigateway"),
    ("stream", "eni-*", "vpc_flow"),
    ("lgroup", "*vpc*flow*", "vpc_flow"),
    ("lgroup", "*flow-log*", "vpc_flow"),
    ("lgroup", "*flowlog*", "vpc_flow"),
)
# Sniffing looks at the first event only, with substring tests (no JSON decoding).
_LAMBDA_PREFIXES: Final = (
    "START RequestId: ",
    "END RequestId: ",
    "REPORT RequestId: ",
    "INIT_START Runtime Version: ",
)
_VPC_STATUSES: Final = frozenset({"OK", "NODATA", "SKIPDATA"})
_VPC_V2_FIELD_COUNT: Final = 14


def detect_source(payload: Payload, config: TransformConfig) -> tuple[str, Parser]:
    """Pick the source (the ``source`` column value) and its parser for a payload."""
    named = _parser_by_name(payload.log_group, payload.log_stream, config)
    if named is not None:
        return named
    hint = payload.source_hint  # a split chunk keeps what its whole record was sniffed as
    if hint is not None and hint in PARSERS:
        return hint, _parser_for(hint, payload.log_group, config)
    first = payload.log_events[0].message if payload.log_events else ""
    sniffed = sniff_source(first)
    return sniffed, PARSERS[sniffed]


def sniff_source(message: str) -> str:
    """Guess the source of a payload from its first message (a registered parser's name)."""
    text = message.lstrip()
    if text.startswith("{"):
        if '"eventVersion"' in text and '"eventSource"' in text and '"eventName"' in text:
            guess = "cloudtrail"
        elif '"type":"platform.' in text or '"type": "platform.' in text:
            guess = "lambda"
        elif '"requestId"' in text and ('"httpMethod"' in text or '"routeKey"' in text):
            guess = "apigateway"
        else:
            guess = "json"
        return guess if guess in PARSERS else "json"
    if text.startswith(_LAMBDA_PREFIXES):
        guess = "lambda"
    elif _looks_like_vpc_flow(text):
        guess = "vpc_flow"
    else:
        guess = "text"
    return guess if guess in PARSERS else "text"


def _looks_like_vpc_flow(text: str) -> bool:
    # Default format: "2 <account> eni-... ... <action> <log-status>"
    if not text.startswith("2 "):
        return False
    parts = text.split(None, _VPC_V2_FIELD_COUNT)
    return len(parts) == _VPC_V2_FIELD_COUNT and parts[2][:4] in ("eni-", "-") and parts[13] in _VPC_STATUSES


@lru_cache(maxsize=1024)
def _parser_by_name(log_group: str, log_stream: str, config: TransformConfig) -> tuple[str, Parser] | None:
    for glob, source in config.source_rules:
        if fnmatchcase(log_group, glob) and source in PARSERS:
            return source, _parser_for(source, log_group, config)
    if "vpc_flow" in PARSERS:
        for glob, names in config.vpc_flow_formats:
            if fnmatchcase(log_group, glob):
                return "vpc_flow", make_vpc_flow_parser(names)
    subjects = {"group": log_group, "stream": log_stream, "lgroup": log_group.lower()}
    for subject, glob, source in _BUILTIN_RULES:
        if source in PARSERS and fnmatchcase(subjects[subject], glob):
            return source, _parser_for(source, log_group, config)
    return None


def _parser_for(source: str, log_group: str, config: TransformConfig) -> Parser:
    if source == "vpc_flow":
        for glob, names in config.vpc_flow_formats:
            if fnmatchcase(log_group, glob):
                return make_vpc_flow_parser(names)
    return PARSERS[source]


__all__ = ["detect_source", "sniff_source"]
