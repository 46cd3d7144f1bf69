"""Golden cases: each fixture payload through decode -> transform_payload -> encode, compared with
the hand-reviewed rows in ``fixtures/expected/`` (``arrival_time`` ignored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, encode_payload
from transform_lambda.config import TransformConfig, parse_vpc_flow_formats
from transform_lambda.decode import decode_record
from transform_lambda.encode import encode_rows
from transform_lambda.transform import transform_payload

PAYLOADS = FIXTURES / "payloads"
EXPECTED = FIXTURES / "expected"
CONFORMANCE = FIXTURES / "conformance"

# The custom flow log format of fixtures/payloads/vpc_flow/custom_v5.json, as an operator would set
# STREAM_PROCESSOR_VPC_FLOW_FORMATS for that log group.
CUSTOM_V5_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
    "${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} "
    "${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} "
    "${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"
)
CASE_CONFIGS: dict[str, TransformConfig] = {
    "vpc_flow/custom_v5": TransformConfig(
        vpc_flow_formats=parse_vpc_flow_formats(json.dumps({"/vpc/custom-*": CUSTOM_V5_FORMAT}))
    ),
}
# Conformance payloads (other projects' captures) with golden rows of ours.
CONFORMANCE_CASES = (
    "powertools-kinesis-cwl-1.gz.b64",
    "powertools-kinesis-cwl-2.gz.b64",
    "powertools-policy-level.zlib.b64",
    "otel-cloudtrail-truncated.json",
    "otel-extracted-fields.json",
)


def payload_cases() -> list[str]:
    """Every ``payloads/<format>/<case>.json`` as ``<format>/<case>``."""
    return sorted(str(p.relative_to(PAYLOADS).with_suffix("")) for p in PAYLOADS.glob("*/*.json"))


def record_data(case: str) -> str:
    """The Firehose record data (base64) of a payload or conformance case."""
    if case.startswith("conformance/"):
        path = CONFORMANCE / case.removeprefix("conformance/")
        if path.suffix == ".b64":
            return path.read_text().strip()
        return encode_payload(json.loads(path.read_text()))
    return encode_payload(json.loads((PAYLOADS / f"{case}.json").read_text()))


def golden_rows(case: str) -> list[dict[str, Any]]:
    """The rows the transform produces for a case, as the JSON Firehose receives (no arrival_time)."""
    config = CASE_CONFIGS.get(case, TransformConfig())
    rows = []
    for payload in decode_record(record_data(case), config.max_decompressed_bytes):
        rows.extend(transform_payload(payload, None, config).rows)
    return [json.loads(line) for line in encode_rows(rows).decode().splitlines()]


def expected_path(case: str) -> Path:
    name = case.removesuffix(".gz.b64").removesuffix(".zlib.b64").removesuffix(".json")
    return EXPECTED / f"{name}.ndjson"


def read_expected(case: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in expected_path(case).read_text().splitlines() if line.strip()]
    for row in rows:
        row.pop("arrival_time", None)
    return rows


ALL_CASES = payload_cases() + [f"conformance/{name}" for name in CONFORMANCE_CASES]


@pytest.mark.parametrize("case", ALL_CASES)
def test_parse_golden_payload_matches_expected_rows(case: str) -> None:
    actual = golden_rows(case)
    expected = read_expected(case)
    assert len(actual) == len(expected)
    for n, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert got == want, f"{case} row {n}"


def test_parse_golden_every_payload_has_expected_rows() -> None:
    missing = [case for case in ALL_CASES if not expected_path(case).exists()]
    assert missing == []


@pytest.mark.parametrize("case", payload_cases())
def test_parse_golden_payload_keeps_every_message(case: str) -> None:
    payload = json.loads((PAYLOADS / f"{case}.json").read_text())
    messages = [event["message"].rstrip("\r\n") for event in payload["logEvents"]]
    assert [row["message"] for row in golden_rows(case)] == messages
