"""decode's fast paths: every payload msgspec (``payload_structs``) or orjson (``_plain_payload``) reads
is exactly the standard path's payload, and whatever they decline (odd kinds, NaN, lone surrogates,
other keys, several documents, bad envelopes) is decided by the standard path, with the same payloads
and error codes whether the accelerators are on or off. Tests of a path not installed here skip."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from transform_lambda import accel
from transform_lambda.decode import SOURCE_HINT_KEY, LogEvent, Payload, _plain_payload, decode_data, plain_envelope
from transform_lambda.errors import RecordError


def _structs() -> ModuleType | None:
    try:
        from transform_lambda import payload_structs as module
    except ImportError:
        return None
    return module


payload_structs = _structs()
needs_msgspec = pytest.mark.skipif(payload_structs is None, reason="msgspec is not installed")
CAP = 1 << 26
# `make fuzz` raises FUZZ_EXAMPLES; every test run keeps the bounded default.
BOUNDED = settings(
    max_examples=max(400, int(os.environ.get("FUZZ_EXAMPLES", "400"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    accel.use_accelerators(True)


def standard(body: bytes) -> Any:
    """decode_data with the standard library only: its payloads, or the code it fails with."""
    accel.use_accelerators(False)
    try:
        return ("ok", decode_data(body, CAP))
    except RecordError as exc:
        return ("error", exc.code)
    finally:
        accel.use_accelerators(True)


def accelerated(body: bytes) -> Any:
    try:
        return ("ok", decode_data(body, CAP))
    except RecordError as exc:
        return ("error", exc.code)


# Values of every JSON kind, the ones decode takes more often than not.
odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and Infinity included: json.dumps spells them, json.loads reads them
    st.text(max_size=4),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers()), max_size=2),
)
texts = st.text(max_size=6)  # lone surrogates included
event_fields = {
    "id": st.one_of(texts, st.integers(min_value=0, max_value=2**65), odd),
    "timestamp": st.one_of(st.integers(min_value=-(2**66), max_value=2**66), st.floats(), odd),
    "message": st.one_of(texts, texts, odd),
    "extractedFields": st.one_of(st.dictionaries(st.text(max_size=3), texts, max_size=2), odd),
    "other": odd,
}
events = st.lists(st.fixed_dictionaries({}, optional=event_fields), max_size=4)
envelope_fields = {
    "owner": st.one_of(texts, odd),
    "logGroup": st.one_of(texts, odd),
    "logStream": st.one_of(texts, odd),
    "subscriptionFilters": st.one_of(st.lists(texts, max_size=2), odd),
    "policyLevel": st.one_of(texts, odd),
    SOURCE_HINT_KEY: st.one_of(texts, odd),
    "unknown": odd,
}
odd_documents = st.fixed_dictionaries(
    {
        "messageType": st.one_of(st.sampled_from(["DATA_MESSAGE", "CONTROL_MESSAGE"]), odd),
        "logEvents": st.one_of(events, events, odd),
    },
    optional=envelope_fields,
)
# Payloads as CloudWatch sends them: most of them msgspec reads.
names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
plain_events = st.lists(
    st.fixed_dictionaries(
        {"message": st.text(st.characters(codec="utf-8"), max_size=8)},
        optional={
            "id": st.text(st.characters(codec="utf-8"), max_size=4),
            "timestamp": st.one_of(st.none(), st.integers(min_value=-(2**66), max_value=2**66)),
            "extractedFields": st.one_of(st.none(), st.dictionaries(names, names, max_size=2)),
        },
    ),
    max_size=4,
)
plain_documents = st.fixed_dictionaries(
    {
        "messageType": st.sampled_from(["DATA_MESSAGE", "CONTROL_MESSAGE"]),
        "logEvents": plain_events,
        "logGroup": names,
        "logStream": names,
    },
    optional={
        "owner": names,
        "subscriptionFilters": st.lists(names, max_size=2),
        "policyLevel": st.one_of(st.none(), names),
        SOURCE_HINT_KEY: st.one_of(st.none(), names),
    },
)
documents = st.one_of(plain_documents, odd_documents)


@BOUNDED
@given(documents, st.booleans())
def test_payload_structs_read_exactly_what_the_standard_path_reads(doc: dict[str, Any], ascii_only: bool) -> None:
    body = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    if payload_structs is not None:
        fast = payload_structs.read_payload(body)
        event("msgspec read it" if fast is not None else "msgspec declined")
        if fast is not None:
            assert standard(body) == ("ok", (fast,))
    # decode's other fast path (orjson, then a look at each value), taken when msgspec declines or is
    # not installed, is held to the same.
    plain = _plain_payload(accel.loads(body))
    event("orjson path read it" if plain is not None else "orjson path declined")
    if plain is not None:
        assert standard(body) == ("ok", (plain,))
    assert accelerated(body) == standard(body)


@BOUNDED
@given(documents, documents)
def test_payload_structs_leave_several_documents_to_the_standard_path(first: dict[str, Any], second: Any) -> None:
    body = (json.dumps(first) + "\n" + json.dumps(second)).encode("utf-8", "surrogatepass")
    assert payload_structs is None or payload_structs.read_payload(body) is None
    assert accelerated(gzip.compress(body, mtime=0)) == standard(gzip.compress(body, mtime=0))


def _body(events: str, extra: str = "") -> bytes:
    return (
        '{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",'
        f'"subscriptionFilters":["f"],"logEvents":[{events}]{extra}}}'
    ).encode()


@needs_msgspec
def test_payload_structs_read_the_usual_payloads() -> None:
    assert payload_structs is not None
    body = _body(
        '{"id":"1","timestamp":5,"message":"m"},{"timestamp":6,"message":"n","id":"2"}',
        f',"policyLevel":"ACCOUNT_LEVEL_POLICY","{SOURCE_HINT_KEY}":"vpc_flow"',
    )
    events = (LogEvent("1", 5, "m"), LogEvent("2", 6, "n"))
    expected = Payload("DATA_MESSAGE", "1", "g", "s", ("f",), events, "ACCOUNT_LEVEL_POLICY", "vpc_flow")
    assert payload_structs.read_payload(body) == expected
    assert type(expected.log_events[0]) is LogEvent
    fields = payload_structs.read_payload(
        _body('{"id":"1","timestamp":5,"message":"m","extractedFields":{"a":"b"}},{"message":"n","extractedFields":{}}')
    )
    assert fields is not None
    assert fields.log_events == (LogEvent("1", 5, "m", {"a": "b"}), LogEvent("", None, "n", None))
    assert payload_structs.read_payload(b'{"messageType":"CONTROL_MESSAGE","logEvents":[]}') is not None


@pytest.mark.parametrize(
    "body",
    [
        _body('{"id":1,"timestamp":5,"message":"m"}'),  # an int id: decode spells it
        _body('{"id":"1","timestamp":5.0,"message":"m"}'),  # a float timestamp
        _body('{"id":"1","timestamp":true,"message":"m"}'),
        _body('{"id":"1","timestamp":5}'),  # no message
        _body('{"id":"1","timestamp":5,"message":"m","extractedFields":{"a":1}}'),
        _body('{"id":"1","timestamp":5,"message":"\\ud800"}'),
        _body('{"id":"1","timestamp":5,"message":"m","x":NaN}'),
        _body('{"id":"1","timestamp":5,"message":"m"}', f',"{SOURCE_HINT_KEY}":1'),
        # Another key: only its value could nest deeply, and where json gives up (near 1000 levels, 1500
        # on Python 3.12, less the caller's stack depth) is not where msgspec does.
        _body('{"id":"1","timestamp":5,"message":"m"}', ',"x":' + "[" * 993 + "]" * 993),
        _body('{"id":"1","timestamp":5,"message":"m"}', ',"x":1'),
        _body('{"id":"1","timestamp":5,"message":"m","x":1}'),
        b'{"messageType":"DATA_MESSAGE","logGroup":"","logStream":"s","logEvents":[]}',
        b'{"messageType":"OTHER","logEvents":[]}',
        b'\xef\xbb\xbf{"messageType":"CONTROL_MESSAGE","logEvents":[]}',
        b'{"messageType":[],"logEvents":[]}',
        b'{"messageType":{"a":1},"logEvents":[]}',
    ],
)
def test_payload_structs_decline_what_the_standard_path_must_judge(body: bytes) -> None:
    assert payload_structs is None or payload_structs.read_payload(body) is None
    assert accelerated(body) == standard(body)


def test_plain_envelope_refuses_a_message_type_that_is_no_string() -> None:
    # Regression: a list or object messageType raised TypeError (unhashable) in the orjson fast path, an
    # unexpected error in the record's log line, where the standard path says unknown_message_type.
    assert not plain_envelope({"messageType": [], "logEvents": []})
    assert not plain_envelope({"messageType": {"a": 1}, "logEvents": []})
    assert standard(b'{"messageType":[],"logEvents":[]}') == ("error", "unknown_message_type")


@needs_msgspec
def test_payload_structs_are_what_decode_uses_when_the_accelerators_are_on() -> None:
    assert payload_structs is not None
    body = _body('{"id":"1","timestamp":5,"message":"m"}')
    accel.use_accelerators(True)
    assert "msgspec" in accel.active()
    assert accel.read_payload is payload_structs.read_payload
    assert decode_data(body, CAP) == (payload_structs.read_payload(body),)
    accel.use_accelerators(False)
    assert accel.read_payload(body) is None  # switched off with the others


def test_a_msgspec_that_cannot_build_the_structs_leaves_decode_to_its_other_paths(tmp_path: Path) -> None:
    # An installed msgspec this module cannot use (here: one without Struct) must not take the Lambda
    # down at import: the accelerator is left out and every payload is still read.
    (tmp_path / "msgspec").mkdir()
    (tmp_path / "msgspec" / "__init__.py").write_text("json = None\n")
    script = (
        "from transform_lambda import accel\n"
        "from transform_lambda.decode import decode_data\n"
        "assert 'msgspec' not in accel.available(), accel.available()\n"
        'body = b\'{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s",\'\n'
        'body += b\'"logEvents":[{"id":"1","timestamp":5,"message":"m"}]}\'\n'
        "print(decode_data(body, 1 << 20)[0].log_events[0].message)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "m"
