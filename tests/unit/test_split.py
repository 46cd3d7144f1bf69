"""Split stage: a record cut into chunks for re-ingestion keeps every event once, in order, and each
chunk is parsed as the whole record was, even when its own first event would sniff differently."""

from __future__ import annotations

import gzip
import json

from transform_lambda.config import TransformConfig
from transform_lambda.decode import SOURCE_HINT_KEY, decode_data
from transform_lambda.detect import detect_source
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

    chunks, events = split_record(raw, CONFIG, target_bytes=4_000, max_event_bytes=100_000)
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
