"""Census: the twin's own count of a record's log events (the conservation check's input) is, for
every record, what decoding it in full gives: the events, the control events and the decode error;
counted in Python and with the twin's C counter (``_native_census.c``; its own tests are in
test_census_counter.py)."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_processor import native_twin
from stream_processor.firehose import census
from stream_processor.firehose.census import decoded_census, take_census
from tests.conftest import data_message
from transform_lambda import accel
from transform_lambda.decode import CONTROL_MESSAGE, SOURCE_HINT_KEY

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def gz(doc: Any) -> bytes:
    return gzip.compress(json.dumps(doc).encode(), mtime=0)


@pytest.fixture(autouse=True, params=["python", "c"])
def counter(request: pytest.FixtureRequest, native_build: dict[str, ModuleType]) -> Iterator[ModuleType | None]:
    """Every test counts in Python, then with the C counter."""
    module = native_build[native_twin.COUNTER] if request.param == "c" else None
    census.use(module)
    yield module
    census.use(None)


DATA = data_message([(1_763_892_000_000, "a"), (1_763_892_000_001, "b")])
CONTROL = {**DATA, "messageType": CONTROL_MESSAGE, "logGroup": "", "logStream": ""}


def with_events(*events: object) -> dict[str, Any]:
    return {**DATA, "logEvents": list(events)}


EVENT = {"id": "1", "timestamp": 1_763_892_000_000, "message": "m"}
RECORDS: list[bytes] = [
    gz(DATA),
    gz(CONTROL),
    gz({**DATA, "logEvents": []}),
    gz(with_events({**EVENT, "extractedFields": {"a": "b"}})),
    gz(with_events({**EVENT, "extractedFields": {"a": 1}})),
    gz(with_events({**EVENT, "id": 7})),
    gz(with_events({**EVENT, "id": True})),
    gz(with_events({"timestamp": 1, "message": "no id"})),
    gz(with_events({**EVENT, "timestamp": 1.0})),
    gz(with_events({**EVENT, "timestamp": True})),
    gz(with_events({**EVENT, "timestamp": None})),
    gz(with_events({**EVENT, "message": 5})),
    gz(with_events({**EVENT, "other": "x"})),
    gz(with_events({"id": "1", "message": "m", "other": 5})),
    gz(with_events("not an object")),
    gz({**DATA, "unknown": 1}),
    gz({**DATA, SOURCE_HINT_KEY: "lambda"}),  # a chunk of a record the transform split and re-ingested
    gz({**DATA, SOURCE_HINT_KEY: 5}),
    gz({**DATA, "logGroup": ""}),
    gz({**DATA, "owner": 5}),
    gz({**DATA, "subscriptionFilters": ["a", 1]}),
    gz({**DATA, "policyLevel": 3}),
    gz({**DATA, "messageType": "OTHER"}),
    gz({**DATA, "logEvents": {}}),
    gz([DATA]),
    gz(DATA) + gz(CONTROL),  # two gzip members
    gzip.compress((json.dumps(DATA) + json.dumps(CONTROL)).encode(), mtime=0),  # two documents
    gzip.compress(b'{"messageType": "DATA_MESSAGE", "logGroup": "g", "logStream": "s", "logEvents": [' * 600),
    gz(DATA)[:-8],  # truncated
    b"\x1f\x8bnot really gzip",
    zlib.compress(json.dumps(DATA).encode()),
    json.dumps(DATA).encode(),
    b"plain text",
    b"",
    gzip.compress(b"\xff\xfe not utf-8", mtime=0),
]


@pytest.mark.parametrize("data", RECORDS)
def test_census_counts_what_decoding_finds(data: bytes) -> None:
    assert take_census(data) == decoded_census(data)


@pytest.mark.parametrize("data", RECORDS[:6])
def test_census_without_accelerators_counts_the_same(data: bytes) -> None:
    accel.use_accelerators(False)
    try:
        assert take_census(data) == decoded_census(data)
    finally:
        accel.use_accelerators(True)


_texts = st.text(max_size=8)
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _texts)
_events = st.one_of(
    st.fixed_dictionaries({"id": _texts, "timestamp": st.integers(), "message": _texts}),
    st.dictionaries(st.sampled_from(["id", "timestamp", "message", "extractedFields", "x"]), _values, max_size=4),
)
_payloads = st.fixed_dictionaries(
    {"messageType": st.sampled_from(["DATA_MESSAGE", "CONTROL_MESSAGE", "X"]), "logEvents": st.lists(_events)},
    optional={
        "owner": st.one_of(_texts, st.integers()),
        "logGroup": _texts,
        "logStream": _texts,
        "subscriptionFilters": st.lists(_texts, max_size=2),
        "policyLevel": st.one_of(_texts, st.integers()),
        SOURCE_HINT_KEY: st.one_of(_texts, st.integers()),
    },
)


@FUZZ
@given(_payloads)
def test_census_any_payload_counts_what_decoding_finds(payload: dict[str, Any]) -> None:
    data = gz(payload)
    assert take_census(data) == decoded_census(data)
