"""Convert stage, columnar fast path: every batch it takes gives the row path's tables, unknown-key
counts and Parquet bytes; every batch the row path would fail, or that is unusual, it leaves to the
row path, so format-conversion failures never depend on it. Every test runs twice: with the rows read
by orjson and Python, and by the twin's C reader (``_native_convert.c``, built here for this Python
with warnings as errors), whose batches must also be valid Arrow down to the buffers."""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_processor import native_twin, pipeline
from stream_processor.bench.twin import write_fixtures
from stream_processor.firehose import convert_columns
from stream_processor.firehose.convert import (
    ConvertedRecord,
    convert_record,
    detach_tables,
    parts_to_table,
    rows_to_table,
    table_to_parquet,
)
from stream_processor.firehose.convert_columns import convert_batch
from stream_processor.firehose.object_buffer import PendingObject
from stream_processor.pipeline import LocalFirehose
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord, read_fixtures
from tests.conftest import FIXTURES
from transform_lambda import accel
from transform_lambda.handler import lambda_handler
from transform_lambda.schema import BIGINT_RANGE, COLUMN_TYPES, INT_RANGE

CLOCK_MS = 1_763_900_000_000
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

LAMBDA_ROW = {
    "event_time": "2025-11-23T10:00:00.303Z",
    "arrival_time": "2025-11-23T10:00:00.000Z",
    "event_id": "17638920003031235777245196833977861905558400190568544729",
    "account_id": "123456789012",
    "log_group": "/aws/lambda/payments-webhook",
    "log_stream": "2025/11/23/[$LATEST]ed038db4de38378426d0b944a2863a7f",
    "source": "lambda",
    "message": "REPORT RequestId: c6f8 Duration: 12.5 ms",
    "request_id": "c6f8da3e-abe1-4f58-a3e0-a813bdc2ae99",
    "duration_ms": 12.5,
    "billed_duration_ms": 13,
    "memory_size_mb": 512,
    "fields": {"type": "REPORT", "version": "$LATEST"},
}
VPC_ROW = {
    "event_time": "2025-11-23T10:00:35.963Z",
    "arrival_time": "2025-11-23T10:00:00.090Z",
    "event_id": "2",
    "log_group": "/vpc/flow-logs",
    "source": "vpc_flow",
    "message": "2 123456789012 eni-8 10.3.141.235 138.79.247.57 63914 443 17 846 47376 ACCEPT OK",
    "src_port": 63914,
    "dst_port": 443,
    "protocol": 17,
    "packets": 846,
    "bytes": 47376,
    "flow_start": "2025-11-23T09:59:17.000Z",
    "flow_end": "2025-11-23T10:00:17.000Z",
    "action": "ACCEPT",
}


def ndjson(*rows: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in rows)


def with_row(base: dict[str, Any], **changes: Any) -> bytes:
    return ndjson({**base, **changes})


@pytest.fixture(autouse=True, params=["python", "c"])
def reader(request: pytest.FixtureRequest, native_build: dict[str, ModuleType]) -> Iterator[ModuleType | None]:
    """The reader of this run: None (orjson and Python) or the C module."""
    module = native_build[native_twin.READER] if request.param == "c" else None
    convert_columns.use(module)
    try:
        yield module
    finally:
        convert_columns.use(None)


def assert_fast_matches_rows(datas: list[bytes], fast: list[ConvertedRecord]) -> None:
    slow = [convert_record(d) for d in datas]
    assert all(s.error is None for s in slow)
    assert len(fast) == len(slow)
    for f, s in zip(fast, slow, strict=True):
        assert f.error is None and f.rows == [] and f.table is not None
        assert f.row_count == len(s.rows) and f.unknown_keys == s.unknown_keys
        assert f.table.equals(rows_to_table(s.rows))
    for whole in {id(f.whole): f.whole for f in fast if f.whole is not None}.values():
        whole.validate(full=True)
    whole_fast = parts_to_table([f.table for f in fast if f.table is not None])
    whole_slow = rows_to_table([r for s in slow for r in s.rows])
    assert whole_fast.equals(whole_slow)
    assert table_to_parquet(whole_fast) == table_to_parquet(whole_slow)


def check_batch(datas: list[bytes]) -> list[ConvertedRecord] | None:
    """The fast path's answer, checked against the row path whenever it gives one."""
    fast = convert_batch(datas)
    if fast is not None:
        assert_fast_matches_rows(datas, fast)
    return fast


@pytest.fixture
def accelerators_off() -> Iterator[None]:
    accel.use_accelerators(False)
    try:
        yield
    finally:
        accel.use_accelerators(True)


def test_convert_columns_transform_rows_take_the_fast_path_with_the_row_path_tables() -> None:
    datas = [ndjson(LAMBDA_ROW, VPC_ROW), ndjson(VPC_ROW), b"", ndjson(LAMBDA_ROW)]
    fast = check_batch(datas)
    assert fast is not None and [f.row_count for f in fast] == [2, 1, 0, 1]


@pytest.mark.parametrize(
    "data",
    [
        with_row(LAMBDA_ROW, request_id=None, fields=None),  # nulls are skipped, as the row path does
        with_row(LAMBDA_ROW, MESSAGE="m", extra=1, other=None),  # keys match exactly; unknown ones counted
        with_row(LAMBDA_ROW, fields={}),
        with_row(LAMBDA_ROW, duration_ms=2, init_duration_ms=-0.0),  # an int in a double column
        with_row(VPC_ROW, src_port=INT_RANGE[0], dst_port=INT_RANGE[1], bytes=BIGINT_RANGE[1], packets=BIGINT_RANGE[0]),
        with_row(LAMBDA_ROW, event_time="0001-01-01T00:00:00.000Z", arrival_time="9999-12-31T23:59:59.999Z"),
        with_row(LAMBDA_ROW, event_time="1969-12-31T23:59:59.999Z", arrival_time="2024-02-29T12:00:00.000Z"),
        with_row(LAMBDA_ROW, message='ünïcödé \u2028 \x00 "quoted" 🎉', fields={"ключ": "значение"}),
        ndjson(LAMBDA_ROW).replace(b"\n", b"\r\n") + b"\n\n",
        ndjson({"message": "only a message"}),
        b'{"message":"a","message":"b"}\n',  # a key twice: the last value
        b'{"message":"a","x":1,"x":2,"y":3}\n',  # an unknown key twice counts once
        b'{"message":"m","fields":{"a":"1","b":"x","a":"2"}}\n',  # a map's key twice: the last value
        b'{"message":"m","":1,"":2,"fields":{"":"a","":"b"}}\n',  # the empty key twice, at both levels
        b'{"message":"m","x":' + b"9" * 19 + b',"y":-' + b"9" * 19 + b"}\n",  # long unknown integers
    ],
)
def test_convert_columns_unusual_but_valid_rows_match_the_row_path(data: bytes) -> None:
    assert check_batch([ndjson(VPC_ROW), data]) is not None


@pytest.mark.parametrize(
    "data",
    [
        with_row(LAMBDA_ROW, event_time="2025-11-23 10:00:00.303"),
        with_row(LAMBDA_ROW, event_time="2025-11-23T10:00:00Z"),
        with_row(LAMBDA_ROW, event_time="2025-11-23T10:00:00.3Z"),
        with_row(LAMBDA_ROW, event_time="2025-11-23T10:00:00.303000Z"),
        with_row(LAMBDA_ROW, event_time=1_763_892_000_303),
        with_row(LAMBDA_ROW, event_time="2025-11-23T10:00:00.\u0663\u0660\u0663Z"),  # Arabic-Indic digits
        with_row(LAMBDA_ROW, duration_ms=2**60),  # not exactly a double: Arrow refuses, json's float() rounds
        b'{"message":"a"}{"message":"b"}\n',
        b'{"message":\n"a"}\n',
    ],
)
def test_convert_columns_rows_the_row_path_reads_otherwise_are_left_to_it(data: bytes) -> None:
    assert convert_batch([ndjson(LAMBDA_ROW), data]) is None
    assert convert_record(data).error is None


@pytest.mark.parametrize(
    "data",
    [
        with_row(VPC_ROW, src_port="443"),
        with_row(VPC_ROW, src_port=INT_RANGE[1] + 1),
        with_row(VPC_ROW, bytes=BIGINT_RANGE[1] + 1),
        with_row(VPC_ROW, bytes=1.5),
        with_row(VPC_ROW, bytes=2.0),
        with_row(VPC_ROW, protocol=True),
        with_row(LAMBDA_ROW, duration_ms=True),
        with_row(LAMBDA_ROW, duration_ms="12.5"),
        with_row(LAMBDA_ROW, message=5),
        with_row(LAMBDA_ROW, message=["m"]),
        with_row(LAMBDA_ROW, event_time="2025-02-29T00:00:00.000Z"),
        with_row(LAMBDA_ROW, event_time="0000-01-01T00:00:00.000Z"),
        with_row(LAMBDA_ROW, event_time="2025-11-23T24:00:00.000Z"),
        with_row(LAMBDA_ROW, event_time="2025-11-23T23:59:60.000Z"),
        with_row(LAMBDA_ROW, event_time="2025-11-23T10:00:00.3+01"),  # 24 characters, an offset
        with_row(LAMBDA_ROW, event_time="2025-11-23T10:00:00+0100"),
        with_row(LAMBDA_ROW, event_time="yesterday"),
        with_row(LAMBDA_ROW, fields={"a": None}),
        with_row(LAMBDA_ROW, fields={"a": 1}),
        with_row(LAMBDA_ROW, fields={"a": True}),
        with_row(LAMBDA_ROW, fields={"a": ["x"]}),
        with_row(LAMBDA_ROW, fields={"a": {"b": "c"}}),
        with_row(LAMBDA_ROW, fields=[["a", "b"]]),
        with_row(LAMBDA_ROW, fields="a=b"),
        b"[1, 2]\n",
        b'{"message": "m"\n',
        b"\xff\xfe\n",
        b'{"message":"m","duration_ms":1e400}\n',  # past a double's range
        b'{"message":"\xed\xa0\x80"}\n',  # a surrogate in UTF-8
        b'{"message":"\xc0\xaf"}\n',  # overlong
        b'{"message":"\xe0\x80\xaf"}\n',
        b'{"message":"\xf0\x80\x80\xaf"}\n',
        b'{"message":"\xf4\x90\x80\x80"}\n',  # past U+10FFFF
        b'{"message":"\xe2\x82"}\n',  # cut short
        b'{"message":"m","x":' + b"1" * 4301 + b"}\n",  # an integer past json's digit limit, unknown key
    ],
)
def test_convert_columns_any_row_the_row_path_refuses_sends_the_batch_to_it(data: bytes) -> None:
    assert convert_batch([ndjson(LAMBDA_ROW), data]) is None
    assert convert_record(data).error is not None


def test_convert_columns_accelerators_off_leave_every_batch_to_the_row_path(accelerators_off: None) -> None:
    assert convert_batch([ndjson(LAMBDA_ROW)]) is None


def test_convert_columns_empty_batch_is_left_to_the_row_path() -> None:
    assert convert_batch([]) is None
    assert convert_batch([b"", b"\n"]) is None


def test_convert_columns_parts_keep_arrival_order_across_tables_and_rows() -> None:
    fast = convert_batch([ndjson(LAMBDA_ROW), ndjson(VPC_ROW)])
    assert fast is not None and fast[0].table is not None and fast[1].table is not None
    rows = convert_record(ndjson({"message": "row path"})).rows
    table = parts_to_table([fast[1].table, rows, fast[0].table])
    assert table.column("message").to_pylist() == [VPC_ROW["message"], "row path", LAMBDA_ROW["message"]]
    assert table.column(0).num_chunks == 1


def test_convert_columns_objects_of_many_pages_are_byte_identical_to_the_row_path() -> None:
    # Tables of many record slices write other Parquet bytes than one table once a column spans
    # several pages (the writer's batches restart at each chunk): parts_to_table must combine them.
    datas = [
        ndjson(*({**LAMBDA_ROW, "message": f"{r}-{i} " + "x" * 300, "event_id": str(i)} for i in range(50)))
        for r in range(120)
    ]
    fast = [c for start in range(0, len(datas), 30) for c in convert_batch(datas[start : start + 30]) or []]
    assert len(fast) == len(datas)
    rows = [row for data in datas for row in convert_record(data).rows]
    body = table_to_parquet(parts_to_table([c.table for c in fast if c.table is not None]))
    assert body == table_to_parquet(rows_to_table(rows))


@pytest.mark.parametrize("taken", [[7], [3, 4, 90]])
def test_convert_columns_detached_slices_keep_their_rows_but_not_the_batch_table(taken: list[int]) -> None:
    # A record's table is a slice of its batch's table; a partition waiting for its buffer to fill
    # must not keep every batch it saw a record of alive.
    datas = [ndjson(*({**LAMBDA_ROW, "message": f"{r}-{i}"} for i in range(20))) for r in range(100)]
    fast = convert_batch(datas)
    assert fast is not None
    slices = [t for t in (fast[n].table for n in taken) if t is not None]
    batch_bytes = slices[0].get_total_buffer_size()  # a slice references its whole batch's buffers
    detached = detach_tables(slices)
    assert detached.equals(pa.concat_tables(slices))
    assert detached.get_total_buffer_size() * 10 < batch_bytes


def _converted(records: int, rows: int = 5) -> list[ConvertedRecord]:
    datas = [ndjson(*({**LAMBDA_ROW, "message": f"{r}-{i}"} for i in range(rows))) for r in range(records)]
    fast = convert_batch(datas)
    assert fast is not None
    return fast


def _message_buffer(table: pa.Table) -> int:
    return table.column("message").chunk(0).buffers()[2].address  # type: ignore[no-any-return]


def test_pending_object_keeps_a_table_all_of_whose_records_it_took_without_a_copy() -> None:
    fast = _converted(6)
    pending = PendingObject(None, CLOCK_MS)
    for record in fast:
        pending.add(record)
    pending.detach()
    assert len(pending.parts) == 1 and pending.parts[0] is fast[0].whole
    assert pending.rows == 30 and pending.sliced_from == []


@pytest.mark.parametrize(
    "taken",
    [[1, 2, 3, 4, 5], [0, 1, 2, 3, 4], [0, 2, 1, 3, 4, 5], [0, 1, 2, 3, 4, 5, 5]],
    ids=["first missing", "last missing", "out of order", "one twice"],
)
def test_pending_object_copies_slices_that_are_not_a_whole_table_in_order(taken: list[int]) -> None:
    fast = _converted(6)
    whole = fast[0].whole
    assert whole is not None
    pending = PendingObject(None, CLOCK_MS)
    for n in taken:
        pending.add(fast[n])
    pending.detach()
    (part,) = pending.parts
    assert isinstance(part, pa.Table) and part is not whole
    assert part.equals(pa.concat_tables([t for t in (fast[n].table for n in taken) if t is not None]))
    assert _message_buffer(part) != _message_buffer(whole)  # its own buffers: the batch can be freed


@pytest.mark.parametrize("taken", [[0, 1, 2, 3, 4, 5], [1, 2, 3], [0, 2, 1]], ids=["all", "some", "out of order"])
def test_pending_object_written_before_detach_has_the_records_rows_in_order(taken: list[int]) -> None:
    # GIVEN the fast path's records, and rows from the row path, in an object not yet detached (a
    # write in the middle of a batch)
    fast = _converted(6)
    row_path = convert_record(ndjson(VPC_ROW))
    pending = PendingObject(None, CLOCK_MS)
    pending.add(row_path)
    for n in taken:
        pending.add(fast[n])
    # WHEN its parts are taken for writing THEN they are those rows, in order; the whole table
    # itself when it is all of them
    parts = pending.table_parts()
    expected = [rows_to_table(row_path.rows), *(fast[n].table for n in taken)]
    assert parts_to_table(parts).equals(pa.concat_tables(expected))
    assert (parts[-1] is fast[0].whole) == (taken == [0, 1, 2, 3, 4, 5])
    assert pending.rows == 1 + 5 * len(taken)


def test_pending_object_copies_the_records_of_two_tables() -> None:
    first, second = _converted(2), _converted(3)
    pending = PendingObject(None, CLOCK_MS)
    for record in [*first, *second]:
        pending.add(record)
    pending.detach()
    (part,) = pending.parts
    assert isinstance(part, pa.Table) and part.num_rows == 25
    assert part is not first[0].whole and part is not second[0].whole


def mixed_batch(tmp_path: Path) -> list[SourceRecord]:
    """One batch of generated traffic: records of several sources, so bound for several S3 objects."""
    generated = tmp_path / "generated"
    generated.mkdir()
    write_fixtures(generated, 3_000)
    return list(itertools.islice(read_fixtures([generated], clock_ms=lambda: CLOCK_MS), 40))


def twin(tmp_path: Path) -> LocalFirehose:
    return LocalFirehose(tmp_path / "lake", DeliverySettings(), lambda_handler, clock_ms=lambda: CLOCK_MS)


def test_pipeline_converts_each_objects_records_into_a_table_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one batch of records bound for several S3 objects
    batch = mixed_batch(tmp_path)
    wholes: list[pa.Table] = []

    def convert_batch_seen(datas: list[bytes]) -> list[ConvertedRecord] | None:
        converted = convert_batch(datas)
        wholes.extend(c.whole for c in converted or [] if c.whole is not None)
        return converted

    monkeypatch.setattr(pipeline, "convert_batch", convert_batch_seen)
    firehose = twin(tmp_path)

    # WHEN the twin processes it
    firehose.process_batch(batch)

    # THEN each pending object holds one table, converted from its own records only, kept as it was
    objects = list(firehose._objects.values())
    assert len(objects) > 1
    for pending in objects:
        (part,) = pending.parts
        assert any(part is whole for whole in wholes) and part.num_rows == pending.rows


def test_pipeline_pending_objects_hold_only_their_own_rows_across_mid_batch_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one batch of mixed traffic and S3 objects so small that several are written mid-batch,
    # leaving the rest of their records' table to the object that follows
    batch = mixed_batch(tmp_path)
    monkeypatch.setattr(pipeline, "MIB", 4096)
    firehose = twin(tmp_path)

    # WHEN the twin processes it
    firehose.process_batch(batch)

    # THEN every table still pending holds buffers of its own rows only, not its batch's
    assert firehose.stats.files_written > 0
    parts = [part for pending in firehose._objects.values() for part in pending.parts]
    assert parts and all(isinstance(part, pa.Table) for part in parts)
    for part in parts:
        assert isinstance(part, pa.Table)
        assert part.get_total_buffer_size() <= 1.1 * part.nbytes


# --- properties: any batch agrees with the row path; rows shaped like the transform's always go fast

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
_SPELLED = st.datetimes().map(
    lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d:%H:%M:%S}.{d.microsecond // 1000:03d}Z"
)
_ODD_TIMES = st.sampled_from(
    ["2025-11-23 10:00:00", "2025-02-29T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "2025-11-23T10:00:00.3+01"]
)
_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
    _SPELLED,
    _ODD_TIMES,
    st.dictionaries(_TEXT, st.one_of(_TEXT, st.none(), st.integers()), max_size=3),
    st.lists(_TEXT, max_size=2),
)
_KEYS = st.sampled_from([*COLUMN_TYPES, "extra", "MESSAGE"])


def _fitting(hive: str) -> st.SearchStrategy[Any]:
    """Values of a column as the transform writes them (None included: a skipped null)."""
    values: dict[str, st.SearchStrategy[Any]] = {
        "string": _TEXT,
        "int": st.integers(*INT_RANGE),
        "bigint": st.integers(*BIGINT_RANGE),
        "double": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53)),
        "timestamp": _SPELLED,
        "map<string,string>": st.dictionaries(_TEXT, _TEXT, max_size=3),
    }
    return st.one_of(st.none(), values[hive])


_TRANSFORM_ROW = st.fixed_dictionaries({}, optional={name: _fitting(hive) for name, hive in COLUMN_TYPES.items()})
_ANY_ROW = st.dictionaries(_KEYS, _ANY_VALUE, max_size=6)


@FUZZ
@given(st.lists(st.lists(st.one_of(_TRANSFORM_ROW, _ANY_ROW), max_size=4), min_size=1, max_size=4))
def test_convert_columns_any_batch_agrees_with_the_row_path(records: list[list[dict[str, Any]]]) -> None:
    datas = [ndjson(*rows) for rows in records]
    fast = convert_batch(datas)
    if fast is not None:
        assert_fast_matches_rows(datas, fast)


@FUZZ
@given(st.lists(st.lists(_TRANSFORM_ROW, max_size=4), min_size=1, max_size=4))
def test_convert_columns_transform_shaped_batches_always_take_the_fast_path(
    records: list[list[dict[str, Any]]],
) -> None:
    datas = [ndjson(*rows) for rows in records]
    fast = convert_batch(datas)
    if any(records):
        assert fast is not None
        assert_fast_matches_rows(datas, fast)
        # the C itself read them (not the Python path after it left them)
        reader = convert_columns._native
        assert (
            reader is None
            or reader.read_rows(datas, convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is not None
        )


# --- the whole twin: the same lake, error documents and counts with the fast path as without it

_UUID = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def lake_files(root: Path) -> list[tuple[str, bytes]]:
    """Every file of a lake by path (object names' random uuid left out) and content."""
    return sorted((_UUID.sub("", str(p.relative_to(root))), p.read_bytes()) for p in root.rglob("*") if p.is_file())


def run_twin(root: Path, sources: list[Path], handler: Any) -> dict[str, Any]:
    settings = DeliverySettings(processor_buffer_size_mb=0.2)
    firehose = LocalFirehose(root, settings, handler, clock_ms=lambda: CLOCK_MS, rng=random.Random(0))
    counts = firehose.run(read_fixtures(sources, clock_ms=lambda: CLOCK_MS)).as_dict()
    del counts["elapsed_s"]
    return counts


def test_convert_columns_twin_writes_the_same_lake_with_and_without_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the repository's fixtures and generated traffic, and a transform whose fifth Ok record
    # carries a row Firehose's conversion refuses (the records of that batch bound for that record's
    # S3 object go to the row path, together)
    generated = tmp_path / "generated"
    generated.mkdir()
    write_fixtures(generated, 10_000)
    ok_records = itertools.count()

    def handler(event: dict[str, Any], context: Any) -> Any:
        response = lambda_handler(event, context)
        for entry in response["records"]:
            if entry["result"] == "Ok" and next(ok_records) == 4:
                rows = base64.b64decode(entry["data"]) + b'{"message":"bad","status_code":"200"}\n'
                entry["data"] = base64.b64encode(rows).decode()
        return response

    taken: list[bool] = []

    def convert_batch_seen(datas: list[bytes]) -> list[ConvertedRecord] | None:
        converted = convert_batch(datas)
        taken.append(converted is not None)
        return converted

    # WHEN the twin runs with the fast path and again with every batch on the row path
    monkeypatch.setattr(pipeline, "convert_batch", convert_batch_seen)
    with_fast = run_twin(tmp_path / "fast", [FIXTURES, generated], handler)
    assert taken.count(False) == 1 and taken.count(True) > 1, taken
    ok_records = itertools.count()
    monkeypatch.setattr(pipeline, "convert_batch", lambda datas: None)
    rows_only = run_twin(tmp_path / "rows", [FIXTURES, generated], handler)

    # THEN the counts, the Parquet objects and the error documents are the same, byte for byte
    assert with_fast == rows_only
    assert with_fast["conserved"] and with_fast["records_conversion_failed"] == 1
    assert lake_files(tmp_path / "fast") == lake_files(tmp_path / "rows")
