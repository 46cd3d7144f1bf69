"""Contract: the Glue table in infra/data.yaml is schema.py, and its projection follows the
prefix the pipeline writes; the TableInput is accepted by the Glue API (moto, real botocore)."""

from __future__ import annotations

import re
from typing import Any

import boto3

from stream_processor import settings
from tests.contract.infra_templates import Resolver, template
from transform_lambda import schema
from transform_lambda.parse import PARSERS
from transform_lambda.timefmt import date_hour_from_epoch_ms

ACCOUNT = "123456789012"
BUCKET = "lake-bucket-example"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": "us-east-1", "AWS::Partition": "aws"}


def _table() -> dict[str, Any]:
    return template("data")["Resources"]["GlueTable"]


def _table_input() -> dict[str, Any]:
    data = template("data")
    resolve = Resolver(data, {**PSEUDO, "LakeBucket": BUCKET})
    return resolve(_table()["Properties"]["TableInput"])


def _columns(items: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(c["Name"], c["Type"], c.get("Comment", "")) for c in items]


def test_glue_table_columns_equal_schema_in_order() -> None:
    columns = _table_input()["StorageDescriptor"]["Columns"]
    assert _columns(columns) == [(c.name, c.type, c.comment) for c in schema.COLUMNS]


def test_glue_partition_keys_equal_schema_in_order() -> None:
    keys = _table_input()["PartitionKeys"]
    assert _columns(keys) == [(c.name, c.type, c.comment) for c in schema.PARTITION_KEYS]


def test_glue_table_parquet_formats_and_names_match_settings() -> None:
    table = _table_input()
    descriptor = table["StorageDescriptor"]
    assert table["Name"] == settings.TABLE
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert descriptor["InputFormat"].endswith("MapredParquetInputFormat")
    assert descriptor["OutputFormat"].endswith("MapredParquetOutputFormat")
    assert descriptor["Location"] == f"s3://{BUCKET}/{settings.TABLE_PREFIX}"
    database = template("data")["Resources"]["GlueDatabase"]["Properties"]["DatabaseInput"]["Name"]
    assert Resolver(template("data"), PSEUDO)(database) == settings.DATABASE


def test_glue_projection_template_matches_pipeline_prefix() -> None:
    # GIVEN Athena's storage.location.template and Firehose's Prefix (from the pipeline stack)
    location = _table_input()["Parameters"]["storage.location.template"]
    pipeline = template("pipeline")
    destination = pipeline["Resources"]["DeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    prefix = Resolver(pipeline, PSEUDO)(destination["Prefix"])
    # WHEN Athena's ${key} placeholders are spelled as Firehose's Lambda partition keys
    as_firehose = re.sub(r"\$\{(\w+)\}", r"!{partitionKeyFromLambda:\1}", location)
    # THEN both describe the same key layout under the bucket
    assert as_firehose == f"s3://{BUCKET}/{prefix}"
    assert prefix == settings.PREFIX
    assert re.findall(r"\$\{(\w+)\}", location) == [k.name for k in schema.PARTITION_KEYS]


def test_glue_projection_types_cover_every_partition_value() -> None:
    params = _table_input()["Parameters"]
    assert params["projection.enabled"] == "true"
    assert set(PARSERS) <= set(params["projection.src.values"].split(","))
    assert {"lambda", "vpc_flow", "apigateway", "cloudtrail", "json", "text"} <= set(
        params["projection.src.values"].split(",")
    )
    # The transform writes dt as yyyy-MM-dd and hour as two digits, in UTC.
    dt, hour = date_hour_from_epoch_ms(1_763_900_000_000)
    assert params["projection.dt.type"] == "date"
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    # The first projected day is the data stack's PartitionProjectionStart (default below): set back
    # for a backfill of older history, which projection would otherwise never query.
    assert params["projection.dt.range"] == "2024-01-01,NOW+1DAYS"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", dt)
    assert params["projection.hour.type"] == "integer"
    assert params["projection.hour.range"] == "0,23"
    assert params["projection.hour.digits"] == str(len(hour)) == "2"


def test_glue_table_input_round_trips_through_glue_api(aws_env: str) -> None:
    # GIVEN the generated TableInput with its intrinsics resolved
    table_input = _table_input()
    glue = boto3.client("glue", region_name="us-east-1")
    glue.create_database(DatabaseInput={"Name": settings.DATABASE})
    # WHEN botocore sends it (it validates every key and type against the Glue model)
    glue.create_table(DatabaseName=settings.DATABASE, TableInput=table_input)
    stored = glue.get_table(DatabaseName=settings.DATABASE, Name=settings.TABLE)["Table"]
    # THEN Glue hands back the same columns, keys, formats and projection properties
    assert _columns(stored["StorageDescriptor"]["Columns"]) == _columns(table_input["StorageDescriptor"]["Columns"])
    assert _columns(stored["PartitionKeys"]) == _columns(table_input["PartitionKeys"])
    assert stored["Parameters"] == table_input["Parameters"]
    assert stored["StorageDescriptor"]["SerdeInfo"] == table_input["StorageDescriptor"]["SerdeInfo"]
    assert stored["StorageDescriptor"]["Location"] == table_input["StorageDescriptor"]["Location"]
