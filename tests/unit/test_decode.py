"""Decode stage: every kind of bad input fails the record with its code; good input in every
encoding (gzip, zlib, plain JSON, several documents) decodes. Transform-only: no pyarrow/duckdb."""

from __future__ import annotations

import base64
import gzip
import json
import tracemalloc
import zlib

import pytest

from tests.conftest import FIXTURES, control_message, data_message, encode_payload
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import CONTROL_MESSAGE, DATA_MESSAGE, decode_data, decode_record, inflate
from transform_lambda.errors import DecodeError

LIMIT = MAX_DECOMPRESSED_BYTES


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_decode_gzip_payload_yields_events_in_order() -> None:
    payload = data_message([(1_700_000_000_000, "a"), (1_700_000_000_001, "b\n")])
    (decoded,) = decode_record(encode_payload(payload), LIMIT)
    assert decoded.message_type == DATA_MESSAGE
    assert decoded.log_group == "/app/orders" and decoded.owner == "123456789012"
    assert [e.message for e in decoded.log_events] == ["a", "b\n"]
    assert [e.timestamp for e in decoded.log_events] == [1_700_000_000_000, 1_700_000_000_001]


def test_decode_plain_json_payload_is_accepted() -> None:
    payload = data_message([(1, "plain")])
    (decoded,) = decode_record(encode_payload(payload, compress=False), LIMIT)
    assert decoded.log_events[0].message == "plain"


def test_decode_zlib_payload_with_policy_level_is_accepted() -> None:
    raw = base64.b64decode((FIXTURES / "conformance" / "powertools-policy-level.zlib.b64").read_text())
    assert raw[:1] == b"\x78"
    (decoded,) = decode_data(raw, LIMIT)
    assert decoded.policy_level == "ACCOUNT_LEVEL_POLICY"
    assert [e.id for e in decoded.log_events] == ["eventId1", "eventId2"]


def test_decode_extracted_fields_are_kept() -> None:
    doc = json.loads((FIXTURES / "conformance" / "otel-extracted-fields.json").read_text())
    (decoded,) = decode_record(encode_payload(doc), LIMIT)
    assert decoded.log_events[0].extracted_fields == {"@aws.account": "999888777666", "@aws.region": "us-west-2"}


def test_decode_unknown_envelope_keys_are_tolerated() -> None:
    payload = {**data_message([(1, "x")]), "someFutureKey": {"nested": True}}
    (decoded,) = decode_record(encode_payload(payload), LIMIT)
    assert decoded.log_events[0].message == "x"


def test_decode_control_message_is_recognized() -> None:
    (decoded,) = decode_record(encode_payload(control_message()), LIMIT)
    assert decoded.message_type == CONTROL_MESSAGE
    assert decoded.owner == "CloudwatchLogs" and decoded.log_events[0].id == ""


def test_decode_concatenated_documents_and_gzip_members_yield_each_payload() -> None:
    one, two = data_message([(1, "one")]), data_message([(2, "two")], log_stream="other")
    concatenated = (json.dumps(one) + json.dumps(two)).encode()
    assert [p.log_stream for p in decode_data(gzip.compress(concatenated), LIMIT)] == ["i-0abc", "other"]
    members = gzip.compress(json.dumps(one).encode()) + gzip.compress(json.dumps(two).encode())
    assert [p.log_events[0].message for p in decode_data(members, LIMIT)] == ["one", "two"]


def test_decode_integer_event_id_becomes_text() -> None:
    payload = data_message([{"id": 12345, "timestamp": 1, "message": "m"}])
    (decoded,) = decode_record(encode_payload(payload), LIMIT)
    assert decoded.log_events[0].id == "12345"


def test_decode_non_integer_timestamp_keeps_event_without_time() -> None:
    payload = data_message([{"id": "1", "timestamp": "yesterday", "message": "m"}])
    (decoded,) = decode_record(encode_payload(payload), LIMIT)
    assert decoded.log_events[0].timestamp is None and decoded.log_events[0].message == "m"


GOOD = json.dumps(data_message([(1, "x")])).encode()


def _reserved_flag(flag: int) -> bytes:
    member = bytearray(gzip.compress(GOOD))
    member[3] |= flag
    return bytes(member)


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize("flag", [0x20, 0x40, 0x80])
def test_decode_a_gzip_member_with_a_reserved_flag_is_invalid(flag: int, accelerated: bool) -> None:
    # Regression: isal inflated such a member where zlib (and RFC 1952) refuses it, so the record's
    # answer depended on the accelerators; a later member is held to the same.
    from transform_lambda import accel

    accel.use_accelerators(accelerated)
    try:
        for raw in (_reserved_flag(flag), gzip.compress(GOOD) + _reserved_flag(flag)):
            with pytest.raises(DecodeError) as info:
                decode_record(b64(raw), LIMIT)
            assert info.value.code == "invalid_gzip"
    finally:
        accel.use_accelerators(True)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (None, "missing_data"),
        ("", "missing_data"),
        (42, "missing_data"),
        ("not base64 !!", "invalid_base64"),
        ("QUJDR", "invalid_base64"),
        (b64(b"just some text"), "not_gzip"),
        (b64(b"[1,2,3]"), "not_gzip"),
        (b64(gzip.compress(GOOD)[:-10]), "truncated_gzip"),
        (b64(gzip.compress(GOOD)[:12] + b"\xff" * 40), "invalid_gzip"),
        (b64(gzip.compress(GOOD) + b"trailing garbage"), "invalid_gzip"),
        (b64(gzip.compress(b"\xff\xfe not utf-8")), "invalid_utf8"),
        (b64(gzip.compress(b"{not json")), "invalid_json"),
        (b64(gzip.compress(b"[" * 100_000 + b"]" * 100_000)), "invalid_json"),
        (b64(gzip.compress(b"[1, 2]")), "not_an_object"),
        # Regression: an integer of more than 4300 digits made json.loads raise a plain ValueError,
        # an unexpected error rather than the record's decode error.
        (
            b64(gzip.compress(b'{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":' + b"9" * 4301 + b"}]}")),
            "invalid_json",
        ),
        (b64(gzip.compress(GOOD + b"\n" + b'{"a":' + b"9" * 4301 + b"}")), "invalid_json"),
        (b64(gzip.compress(b'"a string"')), "not_an_object"),
        (b64(gzip.compress(json.dumps({**data_message([]), "messageType": "OTHER"}).encode())), "unknown_message_type"),
        (b64(gzip.compress(json.dumps({**data_message([]), "messageType": None}).encode())), "unknown_message_type"),
        (b64(gzip.compress(json.dumps({**data_message([]), "logEvents": "x"}).encode())), "invalid_log_events"),
        (b64(gzip.compress(json.dumps({**data_message([]), "logEvents": [1]}).encode())), "invalid_log_events"),
        (b64(gzip.compress(json.dumps(data_message([{"id": "1", "timestamp": 1}])).encode())), "invalid_log_events"),
        (b64(gzip.compress(json.dumps({**data_message([]), "logGroup": 7}).encode())), "invalid_envelope"),
        (b64(gzip.compress(json.dumps({**data_message([]), "logGroup": ""}).encode())), "invalid_envelope"),
    ],
)
def test_decode_bad_input_fails_with_its_code(data: object, code: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_record(data, LIMIT)
    assert info.value.code == code
    assert info.value.stage == "decode"


def test_decode_gzip_bomb_fails_fast_within_the_cap() -> None:
    # 200 MiB of zeros compresses to ~200 KB; inflating must stop at the cap, not allocate it all.
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    raw = b"".join(bomb.compress(b"\0" * (1 << 20)) for _ in range(200)) + bomb.flush()
    assert len(raw) < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError) as info:
            decode_data(raw, LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "too_large"
    assert peak < LIMIT * 1.5, f"peak {peak} bytes while refusing a bomb"


def test_decode_cap_is_a_parameter() -> None:
    raw = gzip.compress(json.dumps(data_message([(1, "x" * 5000)])).encode())
    with pytest.raises(DecodeError, match="too_large"):
        decode_data(raw, 1000)
    assert decode_data(raw, 10_000)[0].log_events[0].message == "x" * 5000


@pytest.mark.parametrize(
    "raw",
    [
        gzip.compress(b'{"a": 1}', mtime=0),  # one member, one step: returned as inflated
        gzip.compress(b"", mtime=0) + gzip.compress(b'{"a": 1}', mtime=0),  # an empty member first
        gzip.compress(b'{"a": 1}', mtime=0) + b"\0" * 8,  # padding after the member
        gzip.compress(b'{"a": 1}', mtime=0) * 2,
        zlib.compress(b'{"a": 1}'),
        gzip.compress(b"x" * ((1 << 20) + 5), mtime=0),  # more than one step
    ],
)
def test_inflate_is_every_member_inflated(raw: bytes) -> None:
    expected = b""
    rest = raw
    while rest.strip(b"\0"):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        expected += inflater.decompress(rest)
        rest = inflater.unused_data
    assert bytes(inflate(raw, LIMIT)) == expected


@pytest.mark.parametrize("size", [999, 1000])
def test_inflate_takes_up_to_the_limit_in_one_step(size: int) -> None:
    assert len(inflate(gzip.compress(b"x" * size), 1000)) == size


def test_inflate_refuses_one_step_past_the_limit() -> None:
    with pytest.raises(DecodeError, match="too_large"):
        inflate(gzip.compress(b"x" * 1001), 1000)
