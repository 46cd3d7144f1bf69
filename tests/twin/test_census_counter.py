"""Census, the C counter (``stream_processor/firehose/_native_census.c``, built here for this
Python): it counts every usual record as decoding it in full does, and hands anything else back
(None) to the Python count; on mutated messages, what it counts is still what decoding finds."""

from __future__ import annotations

import gzip
import os
import random
from types import ModuleType

import pytest

from stream_processor import native_twin
from stream_processor.bench.twin import write_fixtures
from stream_processor.firehose import census
from stream_processor.firehose.census import Census, decoded_census, take_census
from stream_processor.sources.fixture import read_fixtures
from tests.conftest import FIXTURES
from tests.subscription_texts import TEXTS, mutated
from transform_lambda.config import MAX_DECOMPRESSED_BYTES
from transform_lambda.decode import inflate

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))


@pytest.fixture(scope="module")
def counter(native_build: dict[str, ModuleType]) -> ModuleType:
    return native_build[native_twin.COUNTER]


def recorded() -> list[bytes]:
    """The repository's recorded fixtures, the conformance payloads among them."""
    return [r.data for r in read_fixtures([FIXTURES], clock_ms=lambda: 0)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    directory = tmp_path_factory.mktemp("generated")
    write_fixtures(directory, 5_000)
    return [r.data for r in read_fixtures([directory], clock_ms=lambda: 0)]


def inflated(data: bytes) -> bytes | None:
    try:
        return bytes(inflate(data, MAX_DECOMPRESSED_BYTES))
    except Exception:
        return None


def test_the_counter_counts_every_generated_record(counter: ModuleType, generated: list[bytes]) -> None:
    for data in generated:
        text = inflated(data)
        assert text is not None
        counted = counter.count_events(text)
        expected = decoded_census(data)
        assert counted is not None, text[:200]
        assert Census(counted[0], counted[1], None) == expected


def test_the_counter_agrees_on_every_recorded_fixture(counter: ModuleType) -> None:
    answered = 0
    for data in recorded():
        text = inflated(data)
        counted = None if text is None else counter.count_events(text)
        if counted is not None:
            answered += 1
            assert Census(counted[0], counted[1], None) == decoded_census(data)
    assert answered >= 10


@pytest.mark.parametrize(("text", "counted"), TEXTS)
def test_the_counter_counts_only_what_it_knows(counter: ModuleType, text: bytes, counted: bool) -> None:
    data = gzip.compress(text, mtime=0)
    result = counter.count_events(text)
    assert (result is not None) == counted
    if result is not None:
        assert Census(result[0], result[1], None) == decoded_census(data)
    assert counter.count_events(bytearray(text)) == result  # what inflate may return
    census.use(counter)
    try:
        assert take_census(data) == decoded_census(data)
    finally:
        census.use(None)


def test_the_counter_survives_and_agrees_on_mutated_messages(counter: ModuleType, generated: list[bytes]) -> None:
    rng = random.Random(20261206)
    texts = [t for t in map(inflated, generated[:60]) if t is not None]
    answered = 0
    for n in range(EXAMPLES * 50):
        text = mutated(rng, texts)
        result = counter.count_events(text)
        if result is not None:
            answered += 1
            data = gzip.compress(text, mtime=0)
            assert Census(result[0], result[1], None) == decoded_census(data), (n, text)
    assert answered > 0
