"""Hostile input for the whole handler (bounded fuzz with hypothesis): arbitrary bytes, mutated valid
payloads, deeply nested JSON, invalid UTF-8 and surrogates, NUL bytes, numbers and timestamps out of
range, thousands of tiny events, duplicate record ids. Properties: the handler never raises, every
recordId comes back once, the response stays within the budget, conservation holds, every row fits
the schema. `make fuzz` runs the same properties with many more examples."""

from __future__ import annotations

import base64
import gzip
import json
import os
import time
import zlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeLambdaContext, decode_rows
from transform_lambda.config import RESPONSE_BUDGET_BYTES
from transform_lambda.handler import lambda_handler
from transform_lambda.schema import BIGINT_RANGE, COLUMN_TYPES, INT_RANGE

CTX = FakeLambdaContext()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True))
timestamps = st.one_of(st.integers(min_value=-(2**64), max_value=2**64), numbers, st.none(), texts)
json_like = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
messages = st.one_of(
    texts,
    json_like.map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from(
        [
            "REPORT RequestId: x\tDuration: 99999999999999999999 ms\tBilled Duration: -5 ms\tMemory Size: 1e400 MB",
            '{"level": "ERROR", "status": 99999999999999999999999, "msg": "\\ud800"}',
            "2 123456789012 eni-1 1.1.1.1 2.2.2.2 99999999 -1 300 1 1 1 1 ACCEPT OK",
            '{"requestId":"r","httpMethod":"GET","status":"2000000000000","responseLength":"-1"}',
            '{"eventVersion":"1.09","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":5}',
            "\x00\x00\x00",
            "[" * 5000,
        ]
    ),
)
groups = st.one_of(
    texts.filter(bool),
    st.sampled_from(
        ["/aws/lambda/f", "API-Gateway-Access-Logs_x/prod", "/vpc/flow-logs", "aws-cloudtrail-logs-1", "/app/x"]
    ),
)
log_events = st.lists(st.fixed_dictionaries({"id": texts, "timestamp": timestamps, "message": messages}), max_size=40)
payloads = st.fixed_dictionaries(
    {
        "messageType": st.sampled_from(["DATA_MESSAGE", "DATA_MESSAGE", "DATA_MESSAGE", "CONTROL_MESSAGE"]),
        "owner": texts,
        "logGroup": groups,
        "logStream": st.one_of(texts.filter(bool), st.just("eni-1-all")),
        "subscriptionFilters": st.lists(texts, max_size=2),
        "logEvents": log_events,
    }
)


def encode(doc: Any) -> bytes:
    return gzip.compress(json.dumps(doc, allow_nan=True).encode("utf-8", "surrogatepass"))


def mutate(raw: bytes, spots: list[tuple[int, int]]) -> bytes:
    data = bytearray(raw)
    for position, value in spots:
        if data:
            data[position % len(data)] = value
    return bytes(data)


record_datas = st.one_of(
    payloads.map(lambda p: base64.b64encode(encode(p)).decode()),
    st.tuples(payloads, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)).map(
        lambda pm: base64.b64encode(mutate(encode(pm[0]), pm[1])).decode()
    ),
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
    st.binary(max_size=300).map(lambda b: base64.b64encode(gzip.compress(b)).decode()),
    texts,
    st.none(),
    st.integers(),
)


def expected_rows(data: object) -> int | None:
    """Rows an Ok record must carry, computed without the project; None when undecodable."""
    try:
        raw = base64.b64decode(data, validate=True)  # type: ignore[arg-type]
        docs = [json.loads(zlib.decompress(raw, 47).decode("utf-8"))]
    except Exception:
        return None
    return sum(len(d["logEvents"]) for d in docs if isinstance(d, dict) and d.get("messageType") == "DATA_MESSAGE")


def check_row(row: dict[str, Any]) -> None:
    for name, value in row.items():
        kind = COLUMN_TYPES[name]
        if kind in ("string", "timestamp"):
            assert isinstance(value, str)
            value.encode("utf-8")  # strictly valid: no lone surrogates
        elif kind in ("int", "bigint"):
            low, high = INT_RANGE if kind == "int" else BIGINT_RANGE
            assert isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        elif kind == "double":
            assert isinstance(value, float | int) and not isinstance(value, bool)
        else:
            assert isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


@FUZZ
@given(datas=st.lists(record_datas, min_size=1, max_size=8), duplicate=st.booleans())
def test_fuzz_handler_never_raises_and_answers_every_record_once(datas: list[object], duplicate: bool) -> None:
    records = [
        {"recordId": f"r{n}", "approximateArrivalTimestamp": 1_763_892_000_000, "data": d} for n, d in enumerate(datas)
    ]
    if duplicate and len(records) > 1:
        records[-1]["recordId"] = "r0"
    response = lambda_handler({"invocationId": "i", "region": "us-east-1", "records": records}, CTX)
    text = json.dumps(response)
    assert len(text) <= RESPONSE_BUDGET_BYTES
    ids = [e["recordId"] for e in response["records"]]
    assert sorted(ids) == sorted({r["recordId"] for r in records})
    for entry in response["records"]:
        assert entry["result"] in ("Ok", "Dropped", "ProcessingFailed")
        if entry["recordId"] == "r0" and duplicate and len(records) > 1:
            assert entry["result"] == "ProcessingFailed"
            continue
        data = next(r["data"] for r in records if r["recordId"] == entry["recordId"])
        if entry["result"] == "Ok":
            rows = decode_rows(entry)
            expected = expected_rows(data)
            if expected is not None:
                assert len(rows) == expected  # conservation: one row per log event
            for row in rows:
                check_row(row)
                assert "message" in row


@settings(max_examples=max(5, EXAMPLES // 10), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(max_size=3), min_size=1000, max_size=3000))
def test_fuzz_thousands_of_tiny_events_all_become_rows(tiny: list[str]) -> None:
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "1",
        "logGroup": "g",
        "logStream": "s",
        "subscriptionFilters": [],
        "logEvents": [{"id": str(n), "timestamp": 1_763_892_000_000 + n, "message": m} for n, m in enumerate(tiny)],
    }
    event = {"records": [{"recordId": "r", "data": base64.b64encode(encode(payload)).decode()}]}
    (entry,) = lambda_handler(event, CTX)["records"]
    rows = decode_rows(entry)
    assert [r["message"] for r in rows] == [m.rstrip("\r\n") for m in tiny]


def test_fuzz_cost_grows_linearly_not_quadratically() -> None:
    def event_of(n: int) -> dict[str, Any]:
        messages = [f'{{"level":"INFO","msg":"event {i}","n":{i}}}' if i % 2 else f"[INFO] plain {i}" for i in range(n)]
        payload = {
            "messageType": "DATA_MESSAGE",
            "owner": "1",
            "logGroup": "/app/x",
            "logStream": "s",
            "subscriptionFilters": [],
            "logEvents": [
                {"id": str(i), "timestamp": 1_763_892_000_000 + i, "message": m} for i, m in enumerate(messages)
            ],
        }
        return {"records": [{"recordId": "r", "data": base64.b64encode(encode(payload)).decode()}]}

    def best_of(event: dict[str, Any]) -> float:
        # CPU time of this process, best of five: other work on a shared machine barely moves it.
        times = []
        for _ in range(5):
            started = time.process_time()
            lambda_handler(event, CTX)
            times.append(time.process_time() - started)
        return min(times)

    small, large = event_of(1_000), event_of(10_000)
    best_of(small)  # warm caches
    ratio = best_of(large) / best_of(small)
    assert ratio < 25, f"10x the events cost {ratio:.1f}x the time"
