"""Contract: infra/sql is the single source of the data stack's named queries and the QuickSight
datasets, and `make views` runs the same view DDL in the workgroup (against the moto server)."""

from __future__ import annotations

import boto3
import pytest
import yaml

from stream_processor import athena_views, infra_gen
from stream_processor.sql_catalog import load_catalog
from tests.contract.infra_templates import INFRA, CfnLoader, resources_of_type


def _template(name: str) -> dict:
    with (INFRA / f"{name}.yaml").open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=CfnLoader)


def test_infra_data_stack_has_one_named_query_per_sql_file() -> None:
    views, queries = load_catalog()
    named = resources_of_type(_template("data"), "AWS::Athena::NamedQuery")
    by_name = {r["Properties"]["Name"]: r["Properties"] for r in named.values()}
    assert len(named) == len(views) + len(queries) == 14
    for item in (*views, *queries):
        props = by_name[f"stream-processor/{item.kind}s/{item.name}"]
        assert props["QueryString"] == item.sql
        assert props["WorkGroup"] == {"Ref": "AthenaWorkGroup"}
        assert props["Database"] == {"Ref": "GlueDatabase"}


def test_infra_quicksight_has_one_dataset_per_view_with_its_columns() -> None:
    views, _ = load_catalog()
    datasets = resources_of_type(_template("quicksight"), "AWS::QuickSight::DataSet")
    assert len(datasets) == len(views)
    columns = infra_gen.view_columns()
    for resource in datasets.values():
        table = resource["Properties"]["PhysicalTableMap"]["view"]["RelationalTable"]
        assert [c["Name"] for c in table["InputColumns"]] == list(columns[table["Name"]])
        assert resource["Properties"]["Permissions"][0]["Principal"] == {"Ref": "PrincipalArn"}
        assert resource["Properties"]["ImportMode"] == "DIRECT_QUERY"


def test_infra_views_run_every_view_ddl_in_the_workgroup(aws_env: str) -> None:
    athena = boto3.client("athena", region_name="us-east-1")
    athena.create_work_group(Name="stream-processor")
    names = athena_views.create_views(athena, sleep=lambda _: None)
    views, _ = load_catalog()
    assert names == [v.name for v in views]
    executions = athena.list_query_executions(WorkGroup="stream-processor")["QueryExecutionIds"]
    assert len(executions) == len(views)
    texts = {athena.get_query_execution(QueryExecutionId=e)["QueryExecution"]["Query"] for e in executions}
    assert texts == {v.sql for v in views}


def test_infra_views_failed_ddl_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    class FailingAthena:
        def start_query_execution(self, **_: object) -> dict:
            return {"QueryExecutionId": "q1"}

        def get_query_execution(self, **_: object) -> dict:
            return {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "line 1: syntax"}}}

    with pytest.raises(athena_views.ViewError, match="syntax"):
        athena_views.create_views(FailingAthena(), sleep=lambda _: None)
