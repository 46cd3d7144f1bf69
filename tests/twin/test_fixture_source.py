"""Fixture source: a Firehose event record's ``data`` is what ``base64.b64decode(validate=True)``
reads, or the text's own bytes when it is not base64, whichever decoder reads it first."""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_processor.sources.fixture import read_fixture, record_data
from transform_lambda import accel

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))


def reference(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AAAA",
        "AAAA=",  # pybase64 and binascii's strict mode refuse it; b64decode reads it
        "AA==",
        "AA=",
        "A",
        "AA AA",
        "AA\nAA",
        "-_-_",
        "AAAA====",
        "=AAA",
        "é",  # not ASCII: a corrupt record (this raised ValueError out of the reader)
        base64.b64encode(b"\x1f\x8b" + bytes(range(256))).decode(),
    ],
)
@pytest.mark.parametrize("accelerated", [True, False])
def test_record_data_is_b64decode_or_the_text(text: str, accelerated: bool) -> None:
    accel.use_accelerators(accelerated)
    try:
        assert record_data(text) == reference(text)
    finally:
        accel.use_accelerators(True)


@settings(max_examples=EXAMPLES * 10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="AQgw09+/=-_ \né", max_size=24))
def test_any_text_is_read_as_b64decode_reads_it(text: str) -> None:
    assert record_data(text) == reference(text)


def test_a_corrupt_record_is_kept_as_its_text(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    good = base64.b64encode(b"payload").decode()
    path.write_text(json.dumps({"records": [{"data": good}, {"data": "not base64!"}, {"data": "é"}]}))
    assert [r.data for r in read_fixture(path, clock_ms=lambda: 0)] == [b"payload", b"not base64!", "é".encode()]
