"""Accelerators end to end: the handler's whole response, and the twin's conversion of it, are the
same bytes with orjson/isal/pybase64 on and off, on every fixture and on synthetic traffic."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from stream_processor.firehose import convert
from stream_processor.generate import TrafficGenerator, record_bytes_of
from stream_processor.sources.fixture import read_fixtures
from tests.conftest import FIXTURES, FakeLambdaContext
from transform_lambda import accel
from transform_lambda.handler import lambda_handler

pytestmark = pytest.mark.skipif(not accel.available(), reason="no accelerator installed")


def event_of(datas: list[bytes]) -> dict[str, Any]:
    return {
        "invocationId": "i",
        "region": "us-east-1",
        "records": [
            {
                "recordId": str(n),
                "approximateArrivalTimestamp": 1_763_892_000_000 + n,
                "data": base64.b64encode(d).decode(),
            }
            for n, d in enumerate(datas)
        ],
    }


def responses(event: dict[str, Any]) -> tuple[str, str]:
    try:
        accel.use_accelerators(True)
        fast = json.dumps(lambda_handler(event, FakeLambdaContext()))
        accel.use_accelerators(False)
        slow = json.dumps(lambda_handler(event, FakeLambdaContext()))
    finally:
        accel.use_accelerators(True)
    return fast, slow


def test_accel_fixtures_give_identical_responses() -> None:
    datas = [r.data for r in read_fixtures([FIXTURES], clock_ms=lambda: 0)]
    fast, slow = responses(event_of(datas))
    assert fast == slow


def test_accel_synthetic_traffic_gives_identical_responses_and_lake_rows() -> None:
    mix = {"lambda": 3, "vpc_flow": 2, "apigateway": 2, "cloudtrail": 1, "json": 1, "text": 1}
    datas = [record_bytes_of(p) for p in TrafficGenerator(seed=11, mix=mix).payloads(events=4000)]
    fast, slow = responses(event_of(datas[: len(datas) // 2]))
    assert fast == slow
    for entry in json.loads(fast)["records"]:
        if entry["result"] == "Ok":
            data = base64.b64decode(entry["data"])
            assert convert._convert_lines(data) == convert._convert_documents(data)
