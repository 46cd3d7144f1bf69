"""Respond stage: the response budget counts each entry's bytes without writing it, and the count is
exactly what ``json.dumps`` of the entry spells (the widest spelling a runtime may use); a record's
partition comes from its earliest timestamp a row can spell."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import data_message, encode_payload
from transform_lambda.batch import Record, RecordOutcome, Result, _earliest_ms, _entry_size, _smallest_entry, run_batch
from transform_lambda.config import TransformConfig
from transform_lambda.decode import LogEvent
from transform_lambda.reingest import ReingestItem

ids = st.one_of(st.from_regex(r"[0-9]{56}", fullmatch=True), st.text(max_size=40))
keys = st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    record_id=ids,
    result=st.sampled_from(list(Result)),
    data=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9+/]{0,40}={0,2}", fullmatch=True)),
    partition_keys=st.one_of(st.none(), keys),
)
def test_entry_size_is_the_json_length(
    record_id: str, result: Result, data: str | None, partition_keys: dict[str, str] | None
) -> None:
    outcome = RecordOutcome(record_id, result, data, partition_keys)
    assert _entry_size(outcome) == len(json.dumps(outcome.to_wire()))


@settings(max_examples=200, deadline=None)
@given(record_id=ids)
def test_smallest_entry_is_a_processing_failed_entry(record_id: str) -> None:
    failed = json.dumps({"recordId": record_id, "result": "ProcessingFailed"})
    assert _smallest_entry(record_id) == len(failed)


def test_entry_size_of_a_typical_ok_entry() -> None:
    outcome = RecordOutcome("4954" * 14, Result.OK, "eyJhIjoxfQo=", {"src": "lambda", "dt": "2024-06-01", "hour": "12"})
    assert _entry_size(outcome) == len(json.dumps(outcome.to_wire()))
    assert _entry_size(RecordOutcome('a"b\\c\x7f\u00e9', Result.DROPPED)) == len(
        json.dumps({"recordId": 'a"b\\c\x7f\u00e9', "result": "Dropped"})
    )


def test_earliest_timestamp_skips_missing_and_unspellable_ones() -> None:
    def events(*stamps: int | None) -> list[LogEvent]:
        return [LogEvent(str(n), ts, "m") for n, ts in enumerate(stamps)]

    assert _earliest_ms(events(5_000, 3_000, 4_000)) == 3_000
    assert _earliest_ms(events(5_000, None, 4_000)) == 4_000
    assert _earliest_ms(events(-1, 7_000, 10**15)) == 7_000
    assert _earliest_ms(events(None, -5)) is None
    assert _earliest_ms([]) is None


class _LosingReingester:
    """Puts nothing back for the owners given (the stream refused them), everything else it takes."""

    def __init__(self, lost: set[int]) -> None:
        self.lost = lost
        self.items: list[ReingestItem] = []

    def put(self, items: Sequence[ReingestItem]) -> set[int]:
        self.items.extend(items)
        return {item.owner for item in items} & self.lost


def _record(record_id: str, messages: int, size: int) -> Record:
    events = [(1_763_892_000_000 + n, f"{n:06d} " + "x" * size) for n in range(messages)]
    return Record(record_id, encode_payload(data_message(events)), 1_763_892_000_000)


def test_the_batchs_response_bytes_are_what_the_response_spells() -> None:
    """Counted once per entry, the total still equals ``json.dumps`` of the whole response after
    records are split, re-ingested whole, lost by the re-ingester, or fail (sizes change with them)."""
    records = [_record(f"ok-{n}", 20, 300) for n in range(6)]
    records += [Record("bad-base64", "not base64!"), Record('q"uote\\d-\u00e9', "")]
    records += [_record("big-alone", 200, 2000), _record("ok-late", 40, 600), _record("lost", 40, 600)]
    config = TransformConfig(response_budget_bytes=120_000)
    reingester = _LosingReingester({len(records) - 1})
    batch = run_batch(records, config, 1_763_892_000_000, reingester)
    results = Counter(outcome.result for outcome in batch.outcomes)
    assert results[Result.OK] >= 3 and results[Result.DROPPED] >= 2 and results[Result.FAILED] >= 3
    assert batch.outcomes[-1].error_code == "reingest_failed"
    assert any(outcome.split for outcome in batch.outcomes)
    response = {"records": [outcome.to_wire() for outcome in batch.outcomes]}
    assert batch.response_bytes == len(json.dumps(response))
    assert batch.response_bytes <= config.response_budget_bytes
