"""Split stage: a record cut into chunks for re-ingestion keeps every event once, in order, and each
chunk is parsed as the whole record was, even when its own first event would sniff differently."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from transform_lambda.config import TransformConfig
from transform_lambda.decode import SOURCE_HINT_KEY, decode_data
from transform_lambda.detect import detect_source
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.errors import RecordError
from transform_lambda.split import split_record
from transform_lambda.transform import transform_payload

CONFIG = TransformConfig()


def _record(messages: list[str], group: str = "/app/mixed") -> bytes:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": "s-1",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": str(n), "timestamp": 1_700_000_000_000 + n, "message": m} for n, m in enumerate(messages)],
    }
    return gzip.compress(json.dumps(doc).encode())


def test_chunks_keep_the_source_of_the_whole_record() -> None:
    # Sniffed from its first event, this record is JSON; its later chunks start with text lines.
    messages = ['{"level":"ERROR","msg":"first"}'] + [f"plain line {n} " + "x" * 200 for n in range(40)]
    messages += ['{"level":"INFO","msg":"last"}']
    raw = _record(messages)
    (whole,) = decode_data(raw, CONFIG.max_decompressed_bytes)
    expected = transform_payload(whole, None, CONFIG)
    assert expected.source == "json"

    chunks, events = split_record(raw, CONFIG, target_bytes=4_000, max_event_bytes=100_000, arrival_time=None)
    assert len(chunks) > 2 and events == len(messages)
    rows = []
    for chunk in chunks:
        (payload,) = decode_data(chunk, CONFIG.max_decompressed_bytes)
        assert payload.source_hint == "json"
        assert detect_source(payload, CONFIG)[0] == "json"
        rows.extend(transform_payload(payload, None, CONFIG).rows)
    assert rows == expected.rows  # every event once, in order, parsed as in the whole record


def test_a_hint_names_a_parser_or_is_ignored() -> None:
    def payload_with(hint: object):  # type: ignore[no-untyped-def]
        doc = json.loads(gzip.decompress(_record(["START RequestId: 1 Version: $LATEST"])))
        doc[SOURCE_HINT_KEY] = hint
        (payload,) = decode_data(gzip.compress(json.dumps(doc).encode()), CONFIG.max_decompressed_bytes)
        return payload

    assert detect_source(payload_with("vpc_flow"), CONFIG)[0] == "vpc_flow"
    assert detect_source(payload_with("no_such_parser"), CONFIG)[0] == "lambda"  # sniffed
    assert payload_with(123).source_hint is None
    # A log group rule still wins over a hint.
    doc = json.loads(gzip.decompress(_record(["hello"], group="/aws/lambda/f")))
    doc[SOURCE_HINT_KEY] = "text"
    (payload,) = decode_data(gzip.compress(json.dumps(doc).encode()), CONFIG.max_decompressed_bytes)
    assert detect_source(payload, CONFIG)[0] == "lambda"


def test_rows_are_sized_with_the_records_arrival_time() -> None:
    # Regression: rows were sized without the arrival time the record's own rows carry, so a lone
    # event whose row fits only without it came back as one chunk, too large again, forever.
    raw = _record(["x" * 2_700])
    (payload,) = decode_data(raw, CONFIG.max_decompressed_bytes)
    arrival = "2023-11-14T22:13:20.000Z"
    with_arrival = len(base64.b64encode(encode_shaped_rows(transform_payload(payload, arrival, CONFIG).rows)))
    without = len(base64.b64encode(encode_shaped_rows(transform_payload(payload, None, CONFIG).rows)))
    assert without < with_arrival
    limit = with_arrival - 1  # the row with its arrival time does not fit; without, it would
    with pytest.raises(RecordError) as info:
        split_record(raw, CONFIG, target_bytes=limit // 4, max_event_bytes=limit, arrival_time=arrival)
    assert info.value.code == "event_too_large"
    chunks, events = split_record(
        raw, CONFIG, target_bytes=with_arrival, max_event_bytes=with_arrival, arrival_time=arrival
    )
    assert (len(chunks), events) == (1, 1)
