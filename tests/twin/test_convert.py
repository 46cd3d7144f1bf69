"""Convert stage: rows into Parquet with exactly the Glue schema; what Firehose's conversion would
reject fails the record with a documented code, and nothing is coerced silently."""

from __future__ import annotations

import base64
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from stream_processor.firehose.convert import MALFORMED, arrow_schema, convert_record, rows_to_table, table_to_parquet
from stream_processor.pipeline import LocalFirehose
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from tests.conftest import data_message
from transform_lambda.schema import COLUMNS


def ndjson(*rows: dict[str, object]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def test_convert_schema_matches_the_glue_columns_in_order() -> None:
    schema = arrow_schema()
    assert schema.names == [c.name for c in COLUMNS]
    assert str(schema.field("fields").type) == "map<string, string>"
    assert str(schema.field("event_time").type) == "timestamp[ms]"


def test_convert_rows_become_parquet_with_int96_timestamps() -> None:
    record = convert_record(
        ndjson(
            {"event_time": "2025-11-23T10:15:00.415Z", "message": "m", "status_code": 200, "fields": {"a": "b"}},
            {"event_time": "2025-11-23 10:15:01", "message": "n", "duration_ms": 2},
        )
    )
    assert record.error is None and len(record.rows) == 2
    body = table_to_parquet(rows_to_table(record.rows))
    parquet = pq.ParquetFile(io.BytesIO(body))
    assert parquet.schema.column(0).physical_type == "INT96"
    assert parquet.metadata.row_group(0).column(0).compression == "SNAPPY"
    table = parquet.read()
    assert table.column("message").to_pylist() == ["m", "n"]
    assert [t.isoformat() for t in table.column("event_time").to_pylist()] == [
        "2025-11-23T10:15:00.415000",
        "2025-11-23T10:15:01",
    ]
    assert table.column("fields").to_pylist() == [[("a", "b")], None]
    assert table.column("duration_ms").to_pylist() == [None, 2.0]


def test_convert_unknown_keys_are_dropped_and_counted_and_keys_match_exactly() -> None:
    # Deployed with OpenX CaseInsensitive off: "MESSAGE" is not the message column.
    record = convert_record(ndjson({"MESSAGE": "m", "message": "n", "extra": 1, "other": "x"}))
    assert record.error is None
    assert record.rows == [{"message": "n"}]
    assert record.unknown_keys == 3


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"message": "m"', "Malformed JSON"),
        (b"[1, 2]", "must be an object"),
        (ndjson({"status_code": "200"}), "'status_code'"),
        (ndjson({"status_code": 2**31}), "'status_code'"),
        (ndjson({"bytes": 1.5}), "'bytes'"),
        (ndjson({"duration_ms": "fast"}), "'duration_ms'"),
        (ndjson({"message": 5}), "'message'"),
        (ndjson({"event_time": "yesterday"}), "'event_time'"),
        (ndjson({"event_time": "2025-13-40T00:00:00Z"}), "'event_time'"),
        (ndjson({"fields": {"a": 1}}), "'fields'"),
        (b"\xff\xfe", "UTF-8"),
        # Regression: json.loads raises a plain ValueError for an integer of more than 4300 digits,
        # which escaped the converter and failed the whole batch.
        (b'{"bytes":' + b"9" * 5000 + b"}", "too long"),
    ],
)
def test_convert_values_firehose_would_reject_fail_the_record(data: bytes, fragment: str) -> None:
    record = convert_record(data)
    assert record.rows == []
    assert record.error is not None and record.error.code == MALFORMED
    assert fragment in record.error.message


def test_convert_concatenated_objects_without_newlines_are_read() -> None:
    record = convert_record(b'{"message":"a"}{"message":"b"}')
    assert [r["message"] for r in record.rows] == ["a", "b"]


def test_convert_rejected_record_becomes_a_format_conversion_failed_document(tmp_path: Path) -> None:
    def wrong_types(event: dict[str, Any], context: Any) -> Any:
        rows = b'{"message":"ok","status_code":"200"}\n'
        return {
            "records": [
                {
                    "recordId": r["recordId"],
                    "result": "Ok",
                    "data": base64.b64encode(rows).decode(),
                    "metadata": {"partitionKeys": {"src": "text", "dt": "2025-11-23", "hour": "10"}},
                }
                for r in event["records"]
            ]
        }

    record = SourceRecord(gzip.compress(json.dumps(data_message([(1, "ok")])).encode()), 1_763_892_000_000, "t")
    stats = LocalFirehose(Path(tmp_path), DeliverySettings(), wrong_types).run([record])
    assert stats.records_conversion_failed == 1 and stats.rows_written == 0 and stats.events_failed == 1
    assert stats.conserved
    (doc_file,) = (Path(tmp_path) / "errors" / "format-conversion-failed").rglob("stream-processor-1-*")
    doc = json.loads(doc_file.read_text())
    assert doc["lastErrorCode"] == MALFORMED and "'status_code'" in doc["lastErrorMessage"]
    assert base64.b64decode(doc["rawData"]) == b'{"message":"ok","status_code":"200"}\n'
    assert doc["dataCatalogTable"]["tableName"] == "log_events"
