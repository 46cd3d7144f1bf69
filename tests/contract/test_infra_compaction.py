"""The compaction infra: the generated Athena SQL is current and names every column; the schedule
stack runs one compactor at a time, with the permissions the protocol needs and no more."""

from __future__ import annotations

import io

import boto3
import pyarrow.parquet as pq
import pytest

from stream_processor.compaction_handler import lambda_handler
from stream_processor.compaction_sql import OUTPUT, render
from stream_processor.sinks.object_store import S3Store
from tests.contract.infra_templates import resources_of_type, template
from tests.functional.test_compact import DISTINCT, FILES, write_partition
from transform_lambda.schema import COLUMNS, PARTITION_KEYS


def test_compaction_sql_committed_file_is_current() -> None:
    assert OUTPUT.read_text() == render()


def test_compaction_sql_names_every_column_in_order() -> None:
    text = render()
    ddl = text.split("CREATE TABLE IF NOT EXISTS", 1)[1].split("PARTITIONED BY", 1)[0]
    names = [line.strip().split("`")[1] for line in ddl.splitlines() if line.strip().startswith("`")]
    assert names == [c.name for c in (*COLUMNS, *PARTITION_KEYS)]
    assert "WHERE rn = 1 OR event_id IS NULL" in text


def test_compaction_stack_one_compactor_with_scoped_access() -> None:
    tpl = template("compaction")
    (function,) = resources_of_type(tpl, "AWS::Lambda::Function").values()
    props = function["Properties"]
    assert props["ReservedConcurrentExecutions"] == 1 and props["Timeout"] == 900
    assert props["ImageConfig"]["Command"] == ["stream_processor.compaction_handler.lambda_handler"]
    (role,) = [r for n, r in resources_of_type(tpl, "AWS::IAM::Role").items() if n == "CompactorRole"]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:DeleteObject" in actions and not any(a.endswith("*") for a in actions)
    (schedule,) = resources_of_type(tpl, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["Target"]["DeadLetterConfig"]


class _Context:
    def __init__(self, left_ms: int) -> None:
        self.left_ms = left_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.left_ms


@pytest.mark.parametrize(("left_ms", "compacted"), [(900_000, 1), (60_000, 0)])
def test_compaction_handler_s3_lake_respects_time_left(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, left_ms: int, compacted: int
) -> None:
    boto3.client("s3").create_bucket(Bucket="lake")
    store = S3Store("lake", "")
    write_partition(store, FILES)
    monkeypatch.setenv("LAKE", "s3://lake/")
    summary = lambda_handler({"grace_minutes": 0}, _Context(left_ms))
    assert len(summary["partitions"]) == compacted and summary["partitions_left"] == 1 - compacted
    if compacted:
        keys = [o.key for o in store.list("logs/") if o.key.endswith(".parquet")]
        (key,) = keys
        rows = [str(v) for v in pq.read_table(io.BytesIO(store.read_bytes(key))).column("event_id").to_pylist()]
        assert sorted(rows) == DISTINCT
