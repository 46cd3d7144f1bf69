"""Accelerators: with orjson, isal and pybase64 on, every stage returns exactly what it returns
with the standard library only (the same payloads, rows, bytes and error codes)."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transform_lambda import accel
from transform_lambda.decode import LogEvent, Payload, decode_data, decode_record, inflate
from transform_lambda.encode import encode_rows, encode_shaped_rows
from transform_lambda.errors import RecordError
from transform_lambda.parse.json_log import load_json_object
from transform_lambda.shape import shape_row
from transform_lambda.timefmt import iso_from_epoch_s

pytestmark = pytest.mark.skipif(not accel.available(), reason="no accelerator installed")


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    accel.use_accelerators(True)


def outcome(fn: Callable[[], Any]) -> Any:
    """What a call returns, or the class and code of what it raises."""
    try:
        return ("ok", fn())
    except RecordError as exc:
        return ("error", exc.stage, exc.code)
    except (TypeError, ValueError) as exc:
        return ("raised", type(exc).__name__)


def both(fn: Callable[[], Any]) -> tuple[Any, Any]:
    accel.use_accelerators(True)
    fast = outcome(fn)
    accel.use_accelerators(False)
    slow = outcome(fn)
    accel.use_accelerators(True)
    return fast, slow


def test_accel_switch_turns_everything_off_and_on() -> None:
    accel.use_accelerators(False)
    assert accel.active() == ()
    accel.use_accelerators(True)
    assert accel.active() == accel.available()


@pytest.mark.parametrize(
    "text",
    [
        *["".join(p) for n in range(4) for p in itertools.product("AQ+/=\n ", repeat=n)][::5],
        *["AAAA=", "AAQw=", "QQ==QQ==", "QUJD\n", "", "=QQ==", "QQ", "QQ=", "QQ===", "QUJ=", "QR=="],
    ],
)
def test_accel_base64_decode_matches_binascii(text: str) -> None:
    fast, slow = both(lambda: decode_record(text, 1 << 20))
    assert fast == slow


GOOD = gzip.compress(b'{"messageType":"CONTROL_MESSAGE","logEvents":[]}' * 3, mtime=0)


@pytest.mark.parametrize(
    "raw",
    [
        GOOD,
        GOOD + GOOD,
        zlib.compress(b"x" * 100_000),
        GOOD[:-8] + b"\0\0\0\0" + GOOD[-4:],  # bad CRC
        GOOD[:-4] + b"\1\0\0\0",  # bad size
        GOOD[:-3],
        GOOD[:20],
        GOOD + b"\0\0",
        GOOD + b"junk",
        gzip.compress(b"a" * 3_000_000, mtime=0),
    ],
)
def test_accel_inflate_matches_zlib(raw: bytes) -> None:
    fast, slow = both(lambda: bytes(inflate(raw, 2_000_000)))
    assert fast == slow


def _payload(events: str, extra: str = "") -> bytes:
    return (
        '{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",'
        f'"subscriptionFilters":["f"],"logEvents":[{events}]{extra}}}'
    ).encode()


@pytest.mark.parametrize(
    "doc",
    [
        _payload('{"id":"1","timestamp":5,"message":"m"}'),
        _payload('{"id":18446744073709551616,"timestamp":5,"message":"m"}'),  # orjson would read a float
        _payload('{"id":123,"timestamp":5.0,"message":"m"}'),
        _payload('{"id":"1","timestamp":-99999999999999999999,"message":"m"}'),
        _payload('{"id":"1","timestamp":5,"message":"m","extractedFields":{"a":1,"b":"x","c":18446744073709551616}}'),
        _payload('{"id":"1","timestamp":5,"message":"m","extractedFields":{}}'),
        _payload('{"id":"1","timestamp":5,"message":"\\ud800 lone"}'),
        _payload('{"id":"1","timestamp":NaN,"message":"m"}'),
        _payload('{"id":"1","timestamp":5,"message":"m","other":' + "[" * 995 + "]" * 995 + "}"),
        _payload('{"id":"1","timestamp":5,"message":"m"}', ',"policyLevel":"ACCOUNT_LEVEL_POLICY"'),
        _payload('{"id":"1","timestamp":5,"message":"m"}', ',"unknown":{"deep":[1.5e300]}'),
        _payload('{"id":"1","timestamp":5,"message":"m"}', ',"logGroup":"dup"'),
        _payload('{"id":"1","timestamp":5,"message":"m"}') + b"\n" + _payload('{"id":"2","timestamp":6,"message":"n"}'),
        b'{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"","logStream":"s","logEvents":[]}',
        b'{"messageType":"OTHER"}',
        b"[1,2]",
        '{"messageType":"CONTROL_MESSAGE","logEvents":[],"owner":"é"}'.encode("latin-1"),
    ],
)
def test_accel_payload_decode_matches_json(doc: bytes) -> None:
    fast, slow = both(lambda: decode_data(gzip.compress(doc, mtime=0), 1 << 26))
    assert fast == slow


@pytest.mark.parametrize(
    "message",
    [
        '{"level":"info","n":1}',
        '{"n":18446744073709551616}',
        '{"n":-9223372036854775809}',
        '{"n":1.8446744073709552e19}',
        '{"n":NaN}',
        '{"s":"\\ud800"}',
        '{"a":1,"a":2}',
        '{"deep":' + "[" * 990 + "]" * 990 + "}",
        '{"deep":' + "[" * 400 + "]" * 400 + "}",
        '{"nested":{"x":[1,2.5,{"y":null}]}}',
        '{"x":1} trailing',
        "{not json}",
    ],
)
def test_accel_message_json_matches_json(message: str) -> None:
    fast, slow = both(lambda: load_json_object(message))
    assert repr(fast) == repr(slow)


@pytest.mark.parametrize(
    "rows",
    [
        [{"a": 1, "b": "x", "m": {"k": "v"}}],
        [{"d": 1e-05}, {"d": 1.5e-07}, {"d": 0.0001}, {"d": -0.0}, {"d": 1e16}, {"d": 123.456}],
        [{"d": float("nan")}],
        [{"d": float("inf")}],
        [{"message": "bad \ud800 end"}, {"message": "emoji \U0001f600"}],
        [{"message": 'ctl \x00\x01\x1f\x7f \u2028 "q" \\ /'}],
        [{"n": 2**64}],
        [{"b": True, "none": None}],
        [{1: "int key"}],  # type: ignore[dict-item]
        [{"l": [1, 2e-9]}],  # type: ignore[dict-item]
    ],
)
def test_accel_encode_matches_json(rows: list[dict[str, Any]]) -> None:
    fast, slow = both(lambda: encode_rows(rows))
    assert fast == slow


scalars = st.one_of(
    st.text(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(), st.one_of(scalars, st.dictionaries(st.text(), st.text()))), max_size=4))
def test_accel_encode_any_rows_like_json(rows: list[dict[str, Any]]) -> None:
    fast, slow = both(lambda: encode_rows(rows))
    assert fast == slow


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(), children, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_accel_message_any_object_like_json(doc: dict[str, Any]) -> None:
    message = json.dumps(doc)
    fast, slow = both(lambda: load_json_object(message))
    assert repr(fast) == repr(slow)


def test_accel_base64_of_real_records_round_trips() -> None:
    data = base64.b64encode(gzip.compress(_payload('{"id":"1","timestamp":5,"message":"m"}'), mtime=0)).decode()
    fast, slow = both(lambda: decode_record(data, 1 << 20))
    assert fast == slow and fast[0] == "ok"


def test_accel_b64encode_matches_the_standard_library() -> None:
    import base64 as stdlib_base64
    import os as stdlib_os

    from transform_lambda import accel

    for size in (0, 1, 2, 3, 57, 58, 1000, 65_537):
        data = stdlib_os.urandom(size)
        fast, slow = both(lambda data=data: accel.b64encode(data))
        assert type(fast[1]) is str  # the response's JSON needs text, not bytes
        assert fast == slow == ("ok", stdlib_base64.b64encode(data).decode("ascii"))


_PAYLOAD = Payload("DATA_MESSAGE", "111122223333", "/app/g", "s-1", ("f",), ())
# Parsed values as the parser contract allows them (see test_parse_properties), floats included that
# orjson and json spell differently.
shaped_values = st.fixed_dictionaries(
    {},
    optional={
        "level": st.text(),
        "duration_ms": st.floats(allow_nan=False, allow_infinity=False),
        "latency_ms": st.sampled_from([1e-05, 1.5e-07, 0.0001, -0.0, 1e16, 2.5, 3.0]),
        "billed_duration_ms": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "status_code": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "flow_start": st.integers(min_value=0, max_value=2**37).map(iso_from_epoch_s),
        "fields": st.dictionaries(st.text(max_size=4), st.text(max_size=6), min_size=1, max_size=3),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(), shaped_values), max_size=5))
def test_accel_shaped_rows_encode_like_json(events: list[tuple[str, dict[str, Any]]]) -> None:
    rows = [
        shape_row(_PAYLOAD, LogEvent("1", 1_700_000_000_000, message), "text", message, parsed, None, None)
        for message, parsed in events
    ]
    fast, slow = both(lambda: encode_shaped_rows(rows))
    assert fast == slow == ("ok", encode_rows(rows))
