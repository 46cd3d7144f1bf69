"""Put stage: the one retry loop the re-ingestion and replay share retries only failed entries,
stops after its attempts or when too little time is left, and reports what was not put."""

from __future__ import annotations

import random

from transform_lambda.stream_put import put_once, put_retrying


def _retrying(send, items, **kwargs):  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    options = {"max_attempts": 4, "backoff_base_s": 0.1, "backoff_cap_s": 1.0, "sleep": sleeps.append}
    options.update(kwargs)
    return put_retrying(send, items, rng=random.Random(1), **options), sleeps  # type: ignore[arg-type]


def test_only_failed_entries_are_sent_again_until_none_is_left() -> None:
    calls: list[list[str]] = []

    def send(items: list[str]) -> list[str]:
        calls.append(items)
        return [i for i in items if i == "b"] if len(calls) < 3 else []

    retried: list[int] = []
    left, sleeps = _retrying(send, ["a", "b", "c"], on_retry=retried.append)
    assert left == [] and calls == [["a", "b", "c"], ["b"], ["b"]]
    assert retried == [1, 1] and len(sleeps) == 2 and all(0 <= s <= 0.2 for s in sleeps)


def test_persistent_failure_and_raising_calls_return_what_is_left() -> None:
    errors: list[int] = []

    def send(items: list[str]) -> list[str]:
        raise ConnectionError("down")

    left, sleeps = _retrying(send, ["a"], on_call_error=lambda attempt, exc: errors.append(attempt))
    assert left == ["a"] and errors == [1, 2, 3, 4] and len(sleeps) == 3  # no sleep after the last


def test_no_call_starts_without_time_for_it() -> None:
    calls: list[list[str]] = []
    left, _ = _retrying(lambda items: calls.append(items) or items, ["a"], time_left=lambda: 10.0, min_call_s=30.0)
    assert left == ["a"] and calls == []


def test_put_once_reads_each_apis_failures() -> None:
    class Client:
        def put_record_batch(self, **kwargs: object) -> dict[str, object]:
            return {"FailedPutCount": 1, "RequestResponses": [{"RecordId": "1"}, {"ErrorCode": "ServiceUnavailable"}]}

        def put_records(self, **kwargs: object) -> dict[str, object]:
            records = kwargs["Records"]
            assert isinstance(records, list) and records[0]["PartitionKey"] == "k" and records[1]["PartitionKey"] == "d"
            return {"FailedRecordCount": 0, "Records": [{}, {}]}

    assert put_once(Client(), "firehose", "s", [(b"x", None), (b"y", None)], "d") == [1]
    assert put_once(Client(), "kinesis", "s", [(b"x", "k"), (b"y", None)], "d") == []
