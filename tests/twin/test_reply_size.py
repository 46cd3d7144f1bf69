"""Invoke stage, reply size: the size the twin checks against the 6 MB limit is exactly the length of
``json.dumps(response)`` for every response, usual or not, and the data it decodes on the way is
what ``base64.b64decode(validate=True)`` gives."""

from __future__ import annotations

import base64
import json
import os
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_processor.errors import ContractError
from stream_processor.firehose.invoke import check_reply
from stream_processor.firehose.reply_size import measure_reply

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


class Result(StrEnum):
    OK = "Ok"


def entry(rid: str, data: object, result: object = "Ok", **extra: Any) -> dict[str, Any]:
    return {"recordId": rid, "result": result, "data": data, **extra}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


KEYS = {"partitionKeys": {"src": "lambda", "dt": "2025-11-23", "hour": "10"}}
RESPONSES: list[object] = [
    {"records": []},
    {"records": [entry("1", b64(b'{"message":"m"}\n'), metadata=KEYS)]},
    {"records": [entry("1", b64(b"")), entry("2", None, "Dropped"), entry("3", b64(b"x"), "ProcessingFailed")]},
    {"records": [entry("1", 'not base64 "quoted" \\ \x00 \x7f ünï 🎉')]},
    {"records": [entry("1", "AAAA="), entry("2", "AA=A"), entry("3", "A\nAAA")]},  # strictness edges
    {"records": [entry("1", b64(b"abc"), Result.OK)]},  # a StrEnum result, as json writes it
    {"records": [entry("1", b64(b"abc"), metadata={"partitionKeys": {"ключ": "значение"}})]},
    {"records": [entry("1", b64(b"abc"), extra=[1, True, False, None, {"a": [2**70]}])]},
    {"records": [entry("1", b64(b"abc"), extra=1.5)]},  # floats: measured by json.dumps
    {"records": [entry("1", b64(b"abc"))], "other": 1},
    {"records": [{1: "int key"}]},
    {"records": "not a list"},
    {"nothing": []},
    [],
    "text",
    None,
    {"records": [entry("1", b64(b"abc"), deep=[[[[[[[[[["deep"]]]]]]]]]])]},
]


@pytest.mark.parametrize("response", RESPONSES)
def test_reply_size_is_the_length_of_json_dumps(response: object) -> None:
    assert measure_reply(response).size == len(json.dumps(response).encode())


@pytest.mark.parametrize("response", [{"records": [entry("1", {1, 2})]}, {"records": [entry("1", b"raw bytes")]}])
def test_reply_size_of_a_response_json_cannot_write_is_a_json_processing_error(response: object) -> None:
    with pytest.raises(ContractError) as info:
        measure_reply(response)
    assert info.value.error_code == "Lambda.JsonProcessingException"


def test_reply_size_of_a_circular_response_is_a_json_processing_error() -> None:
    records: list[object] = []
    response = {"records": [entry("1", b64(b"x"), loop=records)]}
    records.append(response)
    with pytest.raises(ContractError) as info:
        check_reply(response, ["1"])
    assert info.value.error_code == "Lambda.JsonProcessingException"


def test_reply_size_decoded_data_is_what_the_standard_library_decodes() -> None:
    response = {"records": [entry("1", b64(b'{"message":"m"}\n')), entry("2", "AAAA="), entry("3", "!!")]}
    measured = measure_reply(response)
    assert measured.decoded[0] == base64.b64decode(b64(b'{"message":"m"}\n'), validate=True)
    assert measured.decoded[1] == base64.b64decode("AAAA=", validate=True)
    assert measured.decoded[2] is None


def test_reply_size_bad_base64_still_fails_the_batch_as_invalid_data() -> None:
    with pytest.raises(ContractError) as info:
        check_reply({"records": [entry("1", "!!")]}, ["1"])
    assert info.value.error_code == "Lambda.InvalidData"


def test_reply_size_over_the_limit_wins_over_bad_base64() -> None:
    # The size is checked first, as before: an oversized reply is ResponseSizeExceeded whatever else.
    with pytest.raises(ContractError) as info:
        check_reply({"records": [entry("1", "!" * 6_500_000)]}, ["1"])
    assert info.value.error_code == "Lambda.ResponseSizeExceeded"


_texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
_json_like = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=12,
)
_data = st.one_of(st.binary(max_size=60).map(b64), _texts, _json_like)
_entries = st.fixed_dictionaries(
    {"recordId": _texts, "result": st.sampled_from(["Ok", "Dropped", "ProcessingFailed", "Other"]), "data": _data},
    optional={"metadata": _json_like},
)


@FUZZ
@given(st.one_of(st.fixed_dictionaries({"records": st.lists(_entries, max_size=4)}), _json_like))
def test_reply_size_any_response_measures_as_json_dumps(response: object) -> None:
    try:
        expected = len(json.dumps(response).encode())
    except (TypeError, ValueError):
        with pytest.raises(ContractError):
            measure_reply(response)
        return
    assert measure_reply(response).size == expected
