"""The C payload reader (transform_lambda/_native_payload.c) builds the very Payload msgspec's
``payload_structs`` and decode's standard path build, for every usual subscription message; it hands
every other message back (None), on any bytes. The C is the compiled build's module when that build
is loaded, else it is compiled here for this Python with warnings as errors."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
from collections.abc import Iterator
from types import ModuleType

import pytest

from stream_processor.bench.workload import firehose_event
from stream_processor.sources.fixture import read_fixtures
from tests.conftest import FIXTURES, transform_c_module
from tests.subscription_texts import TEXTS, mutated
from transform_lambda import accel, decode
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import decode_data, decode_record, inflate
from transform_lambda.errors import DecodeError
from transform_lambda.payload import LogEvent, Payload
from transform_lambda.payload_structs import read_payload

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))


@pytest.fixture(scope="module")
def c_reader(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The prebuilt C (``make sanitize``'s), the compiled build's when loaded, or the C built here."""
    return transform_c_module("transform_lambda._native_payload", decode._native, tmp_path_factory.mktemp("c"))


@pytest.fixture
def without_the_c() -> Iterator[None]:
    saved = decode._native
    decode.use_native(None)
    yield
    decode.use_native(saved)


def standard_path(body: bytes) -> tuple[Payload, ...] | str:
    """What decode builds from the body without the C and without accelerators (or its error)."""
    saved = decode._native
    decode.use_native(None)
    accel.use_accelerators(False)
    try:
        return decode_data(gzip.compress(body, mtime=0), MAX_DECOMPRESSED_BYTES)
    except DecodeError as exc:
        return exc.code
    finally:
        accel.use_accelerators(True)
        decode.use_native(saved)


def assert_built_as_python_builds(c_reader: ModuleType, body: bytes) -> Payload | None:
    """The C's Payload for the body, when it builds one: msgspec's and the standard path's, to the
    types of every value."""
    built = c_reader.read_payload(body, Payload, LogEvent)
    if built is None:
        return None
    assert built == read_payload(body)
    assert standard_path(body) == (built,)
    assert type(built) is Payload and type(built.log_events) is tuple and type(built.subscription_filters) is tuple
    for event in built.log_events:
        assert type(event) is LogEvent and event.extracted_fields is None
        assert type(event.id) is str and type(event.timestamp) is int and type(event.message) is str
    return built  # type: ignore[no-any-return]


def decode_record_raw(data: str) -> bytes:
    return accel.b64decode(data)


def bodies(records: list[bytes]) -> list[bytes]:
    out = []
    for data in records:
        with contextlib.suppress(DecodeError):  # undecodable records are decode's other paths' to fail
            out.append(bytes(inflate(data, MAX_DECOMPRESSED_BYTES)))
    return out


def test_every_payload_of_the_bench_workload_is_built_by_the_c(c_reader: ModuleType) -> None:
    records = [decode_record_raw(r["data"]) for r in firehose_event(1 << 20).event["records"]]
    messages = bodies(records)
    assert len(messages) > 50
    for body in messages:
        assert assert_built_as_python_builds(c_reader, body) is not None


def test_the_recorded_fixtures_are_built_as_python_builds_them(c_reader: ModuleType) -> None:
    messages = bodies([r.data for r in read_fixtures([FIXTURES], clock_ms=lambda: 0)])
    built = [assert_built_as_python_builds(c_reader, body) for body in messages]
    assert sum(b is not None for b in built) >= 10


@pytest.mark.parametrize(("text", "walked"), TEXTS)
def test_the_c_builds_only_the_usual_message(c_reader: ModuleType, text: bytes, walked: bool) -> None:
    built = assert_built_as_python_builds(c_reader, text)
    assert (built is not None) == walked
    assert c_reader.read_payload(bytearray(text), Payload, LogEvent) == built  # what inflate may return


def test_escapes_and_defaults_are_read_as_json_reads_them(c_reader: ModuleType) -> None:
    doc = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "/g/\u00e9\n",
        "logStream": 's"\\',
        "logEvents": [{"id": "\u2603", "timestamp": -5, "message": "a\u0000b\U0001f600\t/"}],
    }
    built = assert_built_as_python_builds(c_reader, json.dumps(doc).encode())
    assert built is not None
    assert (built.owner, built.log_group, built.log_stream) == ("", "/g/\u00e9\n", 's"\\')
    assert built.subscription_filters == () and built.policy_level is None and built.source_hint is None
    assert built.log_events == (LogEvent("\u2603", -5, "a\u0000b\U0001f600\t/"),)


def test_the_reader_refuses_wrong_arguments(c_reader: ModuleType) -> None:
    body = TEXTS[0][0]
    for args in [(body, Payload, dict), (body, Payload), (body, 5, LogEvent), ("text", Payload, LogEvent)]:
        with pytest.raises(TypeError):
            c_reader.read_payload(*args)


def test_mutated_messages_are_built_as_python_builds_them_or_handed_back(c_reader: ModuleType) -> None:
    messages = bodies([decode_record_raw(r["data"]) for r in firehose_event(1 << 18).event["records"]])
    rng = random.Random(20261206)
    built = 0
    for _ in range(EXAMPLES * 40):
        built += assert_built_as_python_builds(c_reader, mutated(rng, messages)) is not None
    assert built > 0


def test_decode_reads_with_the_c_what_it_reads_without(c_reader: ModuleType, without_the_c: None) -> None:
    records = [r["data"] for r in firehose_event(1 << 18).event["records"]]
    python = [decode_record(r, MAX_DECOMPRESSED_BYTES) for r in records]
    decode.use_native(c_reader)
    assert [decode_record(r, MAX_DECOMPRESSED_BYTES) for r in records] == python
